package token

import (
	"bytes"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"
)

func testMaster(b byte) []byte { return bytes.Repeat([]byte{b}, 32) }

func testRefresh() Refresh {
	var r Refresh
	for i := range r.SessionID {
		r.SessionID[i] = byte(i)
	}
	for i := range r.Secret {
		r.Secret[i] = byte(0xA0 + i)
	}
	r.Gen = 0x01020304
	return r
}

// TestRefreshFormat rebuilds a token from the format description alone,
// independently of the package's code paths, and compares.
func TestRefreshFormat(t *testing.T) {
	t.Parallel()
	master := testMaster(7)
	r := testRefresh()
	tagKey, err := hkdf.Key(sha256.New, master, nil, "sessiond refresh tag v1", 32)
	if err != nil {
		t.Fatal(err)
	}
	var gen [4]byte
	binary.BigEndian.PutUint32(gen[:], r.Gen)
	m := hmac.New(sha256.New, tagKey)
	m.Write([]byte("rt1"))
	m.Write(r.SessionID[:])
	m.Write(gen[:])
	m.Write(r.Secret[:])
	raw := append(append(append(append([]byte{}, r.SessionID[:]...), gen[:]...), r.Secret[:]...), m.Sum(nil)[:16]...)
	want := "rt1." + base64.RawURLEncoding.EncodeToString(raw)

	k := NewRefreshKeys(master)
	got := k.Encode(r)
	if got != want {
		t.Fatalf("Encode =\n%s\nwant\n%s", got, want)
	}
	if len(got) != RefreshTokenLen || RefreshTokenLen != 95 {
		t.Fatalf("len = %d, RefreshTokenLen = %d, want 95", len(got), RefreshTokenLen)
	}
	back, err := k.Parse(got)
	if err != nil || back != r {
		t.Fatalf("Parse(Encode(r)) = %v, %v", back, err)
	}

	// Next and JTI against their formulas too.
	nextKey, _ := hkdf.Key(sha256.New, master, nil, "sessiond refresh next v1", 32)
	binary.BigEndian.PutUint32(gen[:], r.Gen+1)
	m = hmac.New(sha256.New, nextKey)
	m.Write([]byte("rt1-next"))
	m.Write(r.SessionID[:])
	m.Write(gen[:])
	m.Write(r.Secret[:])
	n := k.Next(r)
	if n.SessionID != r.SessionID || n.Gen != r.Gen+1 || !bytes.Equal(n.Secret[:], m.Sum(nil)) {
		t.Fatalf("Next = %+v, does not follow the formula", n)
	}
	jtiKey, _ := hkdf.Key(sha256.New, master, nil, "sessiond access jti v1", 32)
	binary.BigEndian.PutUint32(gen[:], 5)
	m = hmac.New(sha256.New, jtiKey)
	m.Write([]byte("jti"))
	m.Write(r.SessionID[:])
	m.Write(gen[:])
	if got, want := k.JTI(r.SessionID, 5), base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:16]); got != want {
		t.Fatalf("JTI = %s, want %s", got, want)
	}
	if bytes.Equal(tagKey, nextKey) || bytes.Equal(nextKey, jtiKey) || bytes.Equal(tagKey, jtiKey) {
		t.Fatal("derived keys are not independent")
	}
}

func TestRefreshTamperedAnywhere(t *testing.T) {
	t.Parallel()
	k := NewRefreshKeys(testMaster(1))
	tok := k.Encode(testRefresh())
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	for i := range len(tok) {
		for _, d := range []int{1, 2, 17, 32, 63} { // different bit patterns per position
			b := []byte(tok)
			j := strings.IndexByte(alphabet, b[i])
			if j < 0 { // prefix characters
				b[i] ^= byte(d)
			} else {
				b[i] = alphabet[(j+d)%64]
			}
			if _, err := k.Parse(string(b)); err != ErrMalformed {
				t.Fatalf("byte %d changed (+%d): err = %v, want ErrMalformed", i, d, err)
			}
		}
	}
}

func TestRefreshParseRefuses(t *testing.T) {
	t.Parallel()
	k := NewRefreshKeys(testMaster(1))
	tok := k.Encode(testRefresh())
	body := tok[4:]
	std := strings.NewReplacer("-", "+", "_", "/").Replace(body)
	cases := map[string]string{
		"empty":             "",
		"prefix only":       "rt1.",
		"one short":         tok[:len(tok)-1],
		"one long":          tok + "A",
		"padded":            tok + "=",
		"other version":     "rt2." + body,
		"no prefix":         body + "AAAA",
		"upper-case prefix": "RT1." + body,
		"std alphabet":      "rt1." + std,
		"newline inside":    tok[:50] + "\n" + tok[51:],
		"space inside":      tok[:50] + " " + tok[51:],
		"wrong key":         NewRefreshKeys(testMaster(2)).Encode(testRefresh()),
		"all zero":          "rt1." + strings.Repeat("A", 91),
	}
	if std == body {
		t.Fatal("test token has no - or _; pick another fixture")
	}
	for name, s := range cases {
		t.Run(name, func(t *testing.T) {
			r, err := k.Parse(s)
			if err != ErrMalformed || r != (Refresh{}) {
				t.Fatalf("Parse = %v, %v; want zero, ErrMalformed", r, err)
			}
			if strings.Contains(err.Error(), s) && s != "" {
				t.Fatalf("error text contains the input")
			}
		})
	}
}

func TestRefreshNext(t *testing.T) {
	t.Parallel()
	k1, k2 := NewRefreshKeys(testMaster(1)), NewRefreshKeys(testMaster(2))
	r := testRefresh()
	a, b := k1.Next(r), k1.Next(r)
	if a != b {
		t.Fatal("Next is not deterministic")
	}
	if a.Gen != r.Gen+1 || a.SessionID != r.SessionID || a.Secret == r.Secret {
		t.Fatalf("Next(r) = %v", a)
	}
	if k2.Next(r).Secret == a.Secret {
		t.Fatal("Next gives the same secret under two keys")
	}
	if k1.Next(a).Secret == a.Secret || k1.Next(a).Gen != r.Gen+2 {
		t.Fatal("second rotation did not move on")
	}
	other := r
	other.SessionID[0] ^= 1
	if k1.Next(other).Secret == a.Secret {
		t.Fatal("Next ignores the session id")
	}
	// Successors are tokens like any other.
	if got, err := k1.Parse(k1.Encode(a)); err != nil || got != a {
		t.Fatalf("successor round trip: %v, %v", got, err)
	}
	// And a key change invalidates them: keys and successors go together.
	if _, err := k2.Parse(k1.Encode(a)); err != ErrMalformed {
		t.Fatalf("successor parsed under another key: %v", err)
	}
	wrap := Refresh{Gen: ^uint32(0)}
	if k1.Next(wrap).Gen != 0 {
		t.Fatal("Gen does not wrap as documented")
	}
}

func TestRefreshJTI(t *testing.T) {
	t.Parallel()
	k1, k2 := NewRefreshKeys(testMaster(1)), NewRefreshKeys(testMaster(2))
	sid := testRefresh().SessionID
	a := k1.JTI(sid, 3)
	if len(a) != 22 || a != k1.JTI(sid, 3) {
		t.Fatalf("JTI = %q (len %d), want 22 stable characters", a, len(a))
	}
	sid2 := sid
	sid2[15] ^= 1
	for name, other := range map[string]string{
		"other gen": k1.JTI(sid, 4), "other sid": k1.JTI(sid2, 3), "other key": k2.JTI(sid, 3),
	} {
		if other == a {
			t.Errorf("%s: same JTI", name)
		}
	}
}

func TestRefreshHash(t *testing.T) {
	t.Parallel()
	r := testRefresh()
	var buf []byte
	buf = append(buf, r.Secret[:]...)
	buf = binary.BigEndian.AppendUint32(buf, r.Gen)
	buf = append(buf, r.SessionID[:]...)
	sum := sha256.Sum256(buf)
	if got, want := Hash(r), hex.EncodeToString(sum[:]); got != want {
		t.Fatalf("Hash = %s, want %s", got, want)
	}
	for name, mut := range map[string]func(*Refresh){
		"secret": func(r *Refresh) { r.Secret[31] ^= 1 },
		"gen":    func(r *Refresh) { r.Gen++ },
		"sid":    func(r *Refresh) { r.SessionID[0] ^= 1 },
	} {
		o := r
		mut(&o)
		if Hash(o) == Hash(r) {
			t.Errorf("Hash ignores the %s", name)
		}
	}
}

func TestNewRefresh(t *testing.T) {
	t.Parallel()
	sid := testRefresh().SessionID
	a, err := NewRefresh(sid)
	if err != nil {
		t.Fatal(err)
	}
	b, err := NewRefresh(sid)
	if err != nil {
		t.Fatal(err)
	}
	if a.Gen != 0 || a.SessionID != sid || a.Secret == ([32]byte{}) || a.Secret == b.Secret {
		t.Fatalf("NewRefresh = %v, %v", a, b)
	}
}

func TestRefreshKeysPanicsOnBadMaster(t *testing.T) {
	t.Parallel()
	for _, n := range []int{0, 16, 31, 33, 64} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("NewRefreshKeys(%d bytes) did not panic", n)
				}
			}()
			NewRefreshKeys(make([]byte, n))
		}()
	}
}

func TestSecretsNotPrinted(t *testing.T) {
	t.Parallel()
	r := testRefresh()
	k := NewRefreshKeys(testMaster(9))
	secretHex := hex.EncodeToString(r.Secret[:])
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%x"} {
		if out := fmt.Sprintf(verb, r); strings.Contains(out, secretHex) || strings.Contains(out, fmt.Sprint(r.Secret[0])+" ") {
			t.Errorf("%s of a Refresh shows the secret: %s", verb, out)
		}
		out := fmt.Sprintf(verb, k)
		if strings.Contains(out, hex.EncodeToString(k.tag[:4])) || strings.Contains(out, fmt.Sprint(k.tag[0])+" ") {
			t.Errorf("%s of RefreshKeys shows a key: %s", verb, out)
		}
	}
	if !strings.Contains(r.String(), "Gen:16909060") {
		t.Errorf("String lost the generation: %s", r)
	}
}
