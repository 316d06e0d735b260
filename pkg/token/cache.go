package token

import (
	"hash/maphash"
	"strings"
	"sync"
	"time"
)

// cacheEntry is what a verified token decoded to.
type cacheEntry struct {
	claims    AccessClaims
	notBefore time.Time // zero when the token has no nbf
}

// cacheShards spreads the cache over independent locks so that concurrent
// verifications of different tokens do not queue on one mutex.
const cacheShards = 16

// verifiedCache remembers tokens that passed full verification, keyed by the
// token string itself: a hit means the very same bytes were verified before,
// so no cryptographic hash of the token is needed to make the key safe.
//
// Each shard is a two-generation cache: entries go into cur; when cur holds
// half the shard's capacity it becomes old and a fresh cur starts; a hit in
// old moves the entry to cur. Recently used tokens survive, the rest fall
// out with old, and a shard never holds more than its capacity. That is
// LRU-like at the price of two map operations, without a linked list to
// maintain under the lock.
type verifiedCache struct {
	seed   maphash.Seed
	shards [cacheShards]cacheShard
}

type cacheShard struct {
	mu   sync.Mutex
	half int
	cur  map[string]cacheEntry
	old  map[string]cacheEntry
	_    [40]byte // keep shards on separate cache lines
}

// newVerifiedCache returns a cache of at most max(size, 2*cacheShards)
// entries.
func newVerifiedCache(size int) *verifiedCache {
	half := max(size/(2*cacheShards), 1)
	c := &verifiedCache{seed: maphash.MakeSeed()}
	for i := range c.shards {
		// Maps grow with use: a cold instance (one request, then gone)
		// does not pay for 16 maps sized for a busy one.
		c.shards[i].half = half
		c.shards[i].cur = make(map[string]cacheEntry)
	}
	return c
}

// shard picks a shard by hashing 22 characters at the start of an Ed25519
// signature segment (86 characters, at the end of our tokens): the encoded R
// point, which is pseudo-random. Hashing only those skips a second pass over
// the whole token on top of the map's own hash. (The end of the signature
// would not do: S < 2^253, so its last characters are far from uniform.)
// Junk tokens landing anywhere do not matter: they are looked up, never
// stored.
func (c *verifiedCache) shard(token string) *cacheShard {
	const sigLen = 86
	key := token
	if len(token) >= sigLen {
		key = token[len(token)-sigLen : len(token)-sigLen+22]
	}
	return &c.shards[maphash.String(c.seed, key)%cacheShards]
}

func (c *verifiedCache) get(token string) (cacheEntry, bool) {
	s := c.shard(token)
	s.mu.Lock()
	defer s.mu.Unlock()
	if e, ok := s.cur[token]; ok {
		return e, true
	}
	if e, ok := s.old[token]; ok {
		delete(s.old, token)
		s.insertLocked(token, e)
		return e, true
	}
	return cacheEntry{}, false
}

func (c *verifiedCache) put(token string, e cacheEntry) {
	// Clone: the caller's string may point into a large request body, which
	// the cache must not keep alive.
	token = strings.Clone(token)
	s := c.shard(token)
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.cur[token]; ok {
		return
	}
	delete(s.old, token)
	s.insertLocked(token, e)
}

func (s *cacheShard) insertLocked(token string, e cacheEntry) {
	if len(s.cur) >= s.half {
		s.old = s.cur
		s.cur = make(map[string]cacheEntry, s.half)
	}
	s.cur[token] = e
}

func (c *verifiedCache) remove(token string) {
	s := c.shard(token)
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.cur, token)
	delete(s.old, token)
}

// len reports the number of entries (tests).
func (c *verifiedCache) len() int {
	n := 0
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.Lock()
		n += len(s.cur) + len(s.old)
		s.mu.Unlock()
	}
	return n
}
