package seal

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"testing"
)

func testSealer(t testing.TB) *Sealer {
	t.Helper()
	s, err := New(bytes.Repeat([]byte{7}, KeySize))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestNewKeySize(t *testing.T) {
	t.Parallel()
	for _, n := range []int{0, 1, 16, 24, 31, 33, 64} {
		if _, err := New(make([]byte, n)); !errors.Is(err, ErrKeySize) {
			t.Errorf("New(%d bytes) = %v, want ErrKeySize", n, err)
		}
	}
	if _, err := New(make([]byte, KeySize)); err != nil {
		t.Fatalf("New(32 bytes): %v", err)
	}
}

func TestRoundTrip(t *testing.T) {
	t.Parallel()
	s := testSealer(t)
	for _, tc := range []struct {
		name   string
		pt, ad []byte
	}{
		{"empty", nil, nil},
		{"empty with ad", []byte{}, []byte("sid-1")},
		{"text", []byte("refresh-token-value"), []byte("sid-1")},
		{"binary", bytes.Repeat([]byte{0, 255}, 4096), []byte{0}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sealed := s.Seal(tc.pt, tc.ad)
			if len(sealed) != len(tc.pt)+Overhead {
				t.Fatalf("len = %d, want %d", len(sealed), len(tc.pt)+Overhead)
			}
			if sealed[0] != version1 {
				t.Fatalf("version byte = %#x", sealed[0])
			}
			if len(tc.pt) > 4 && bytes.Contains(sealed, tc.pt) {
				t.Fatal("plaintext visible in sealed value")
			}
			got, err := s.Open(sealed, tc.ad)
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			if !bytes.Equal(got, tc.pt) {
				t.Fatalf("Open = %q, want %q", got, tc.pt)
			}
		})
	}
}

func TestSealIsRandomized(t *testing.T) {
	t.Parallel()
	s := testSealer(t)
	a, b := s.Seal([]byte("x"), []byte("ad")), s.Seal([]byte("x"), []byte("ad"))
	if bytes.Equal(a, b) {
		t.Fatal("two seals of the same input are identical: nonce reuse")
	}
}

func TestOpenRefuses(t *testing.T) {
	t.Parallel()
	s := testSealer(t)
	other, err := New(bytes.Repeat([]byte{8}, KeySize))
	if err != nil {
		t.Fatal(err)
	}
	ad := []byte("session-A")
	sealed := s.Seal([]byte("upstream refresh token"), ad)

	flip := func(i int) []byte {
		b := bytes.Clone(sealed)
		b[i] ^= 0x01
		return b
	}
	for _, tc := range []struct {
		name   string
		s      *Sealer
		sealed []byte
		ad     []byte
	}{
		{"wrong ad (other session)", s, sealed, []byte("session-B")},
		{"missing ad", s, sealed, nil},
		{"wrong key", other, sealed, ad},
		{"version byte flipped", s, flip(0), ad},
		{"nonce flipped", s, flip(1), ad},
		{"ciphertext flipped", s, flip(Overhead - tagSize), ad},
		{"tag flipped", s, flip(len(sealed) - 1), ad},
		{"truncated by one", s, sealed[:len(sealed)-1], ad},
		{"header only", s, sealed[:1+nonceSize], ad},
		{"nil", s, nil, ad},
		{"empty", s, []byte{}, ad},
		{"appended byte", s, append(bytes.Clone(sealed), 0), ad},
		{"unknown version", s, append([]byte{0x02}, sealed[1:]...), ad},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.s.Open(tc.sealed, tc.ad)
			if !errors.Is(err, ErrOpen) || got != nil {
				t.Fatalf("Open = %q, %v; want nil, ErrOpen", got, err)
			}
			if err.Error() != ErrOpen.Error() {
				t.Fatalf("error text %q says more than ErrOpen", err)
			}
		})
	}
}

func TestParseKey(t *testing.T) {
	t.Parallel()
	raw := bytes.Repeat([]byte{0xfb, 0xff, 0x01}, 11)[:KeySize] // exercises + / - _
	for _, tc := range []struct {
		name, in string
		ok       bool
	}{
		{"std padded", base64.StdEncoding.EncodeToString(raw), true},
		{"std raw", base64.RawStdEncoding.EncodeToString(raw), true},
		{"url padded", base64.URLEncoding.EncodeToString(raw), true},
		{"url raw with spaces", "  " + base64.RawURLEncoding.EncodeToString(raw) + "\n", true},
		{"too short", base64.StdEncoding.EncodeToString(raw[:31]), false},
		{"too long", base64.StdEncoding.EncodeToString(append(raw, 1)), false},
		{"not base64", "this is not base64!!", false},
		{"empty", "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k, err := ParseKey(tc.in)
			if tc.ok {
				if err != nil || !bytes.Equal(k, raw) {
					t.Fatalf("ParseKey = %x, %v; want %x", k, err, raw)
				}
				return
			}
			if err == nil {
				t.Fatalf("ParseKey(%q) accepted", tc.in)
			}
			if tc.in != "" && bytes.Contains([]byte(err.Error()), []byte(tc.in)) {
				t.Fatalf("error %q repeats the key", err)
			}
		})
	}
}

func TestGenerateKey(t *testing.T) {
	t.Parallel()
	a, b := GenerateKey(), GenerateKey()
	if len(a) != KeySize || bytes.Equal(a, b) {
		t.Fatalf("GenerateKey gave %x and %x", a, b)
	}
	if _, err := New(a); err != nil {
		t.Fatal(err)
	}
}

func FuzzOpen(f *testing.F) {
	s := testSealer(f)
	f.Add(s.Seal([]byte("token"), []byte("sid")), []byte("sid"))
	f.Add(s.Seal(nil, nil), []byte{})
	f.Add([]byte{version1}, []byte("sid"))
	f.Add([]byte{}, []byte{})
	f.Fuzz(func(t *testing.T, sealed, ad []byte) {
		pt, err := s.Open(sealed, ad)
		if err != nil {
			if !errors.Is(err, ErrOpen) || pt != nil {
				t.Fatalf("Open = %q, %v", pt, err)
			}
			return
		}
		// Anything that opens must have been made by Seal with this key and
		// ad: re-sealing and opening must give the same plaintext back.
		again, err := s.Open(s.Seal(pt, ad), ad)
		if err != nil || !bytes.Equal(again, pt) {
			t.Fatalf("round trip of opened value failed: %v", err)
		}
	})
}

func ExampleSealer() {
	key := bytes.Repeat([]byte{1}, KeySize) // use ParseKey(os.Getenv("SESSION_ENCRYPTION_KEY"))
	s, err := New(key)
	if err != nil {
		panic(err)
	}
	sealed := s.Seal([]byte("upstream refresh token"), []byte("session-123"))

	pt, err := s.Open(sealed, []byte("session-123"))
	fmt.Println(string(pt), err)

	_, err = s.Open(sealed, []byte("session-456"))
	fmt.Println(err)
	// Output:
	// upstream refresh token <nil>
	// seal: cannot open sealed value
}
