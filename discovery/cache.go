package discovery

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/go-par/par/internal/httpx"
)

// DefaultTTL is how long a [Cache] keeps metadata when CacheConfig.TTL is 0.
const DefaultTTL = time.Hour

// CacheConfig configures a [Cache].
type CacheConfig struct {
	// HTTPClient fetches the metadata as described for [Fetch]. nil means
	// a client with a 30 s timeout that follows no redirects.
	HTTPClient *http.Client
	// TTL is how long fetched metadata is served before it is fetched
	// again. Zero means DefaultTTL (1 h).
	TTL time.Duration
	// Now is the clock. nil means time.Now.
	Now func() time.Time
	// Logger receives a warning when stale metadata is served after a
	// failed refresh. nil means no logging.
	Logger *slog.Logger
}

// Cache fetches and keeps the metadata of any number of issuers. It is safe
// for concurrent use and makes one request per issuer at a time however
// many goroutines ask.
//
// Metadata is served for TTL after it was fetched. The first Get after that
// fetches it again. When that refresh fails and the cached metadata is
// younger than 2×TTL, Get returns the cached metadata (stale-if-error) and
// logs a warning; otherwise it returns the error. Errors are not cached:
// the next Get tries again. Entries are never evicted, so a Cache is meant
// for a configured set of issuers, not for issuers taken from requests.
type Cache struct {
	hc      *http.Client
	ttl     time.Duration
	timeout time.Duration
	now     func() time.Time
	log     *slog.Logger

	group   singleflight.Group
	mu      sync.Mutex
	entries map[string]cacheEntry
}

type cacheEntry struct {
	md      *Metadata
	fetched time.Time
}

// NewCache returns an empty cache configured by cfg.
func NewCache(cfg CacheConfig) *Cache {
	c := &Cache{
		hc:      httpx.Client(cfg.HTTPClient),
		ttl:     cfg.TTL,
		now:     cfg.Now,
		log:     cfg.Logger,
		entries: make(map[string]cacheEntry),
	}
	if c.ttl <= 0 {
		c.ttl = DefaultTTL
	}
	if c.now == nil {
		c.now = time.Now
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	c.timeout = c.hc.Timeout
	if c.timeout <= 0 {
		c.timeout = httpx.DefaultTimeout
	}
	return c
}

// Get returns the metadata of issuer, from the cache when it is fresh and
// otherwise by [Fetch], shared with every concurrent caller for the same
// issuer. The shared fetch does not end when ctx is cancelled (it is bounded
// by the HTTP client's timeout, or 30 s); a caller whose ctx ends stops
// waiting and gets ctx's error. The returned Metadata is shared and must
// not be modified.
func (c *Cache) Get(ctx context.Context, issuer string) (*Metadata, error) {
	if md, ok := c.fresh(issuer); ok {
		return md, nil
	}
	ch := c.group.DoChan(issuer, func() (any, error) { return c.refresh(ctx, issuer) })
	select {
	case r := <-ch:
		if r.Err != nil {
			return nil, r.Err
		}
		return r.Val.(*Metadata), nil
	case <-ctx.Done():
		return nil, fmt.Errorf("discovery: waiting for metadata: %w", context.Cause(ctx))
	}
}

// fresh returns the cached metadata of issuer if it is younger than TTL.
func (c *Cache) fresh(issuer string) (*Metadata, bool) {
	c.mu.Lock()
	e, ok := c.entries[issuer]
	c.mu.Unlock()
	if ok && c.now().Sub(e.fetched) < c.ttl {
		return e.md, true
	}
	return nil, false
}

// refresh runs once per issuer at a time, inside the singleflight group.
func (c *Cache) refresh(ctx context.Context, issuer string) (*Metadata, error) {
	// A flight that ended between our fresh check and this one joining the
	// group may have just stored the metadata.
	if md, ok := c.fresh(issuer); ok {
		return md, nil
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.timeout)
	defer cancel()
	md, err := Fetch(ctx, c.hc, issuer)
	now := c.now()
	c.mu.Lock()
	defer c.mu.Unlock()
	if err != nil {
		if old, ok := c.entries[issuer]; ok && now.Sub(old.fetched) < 2*c.ttl {
			c.log.LogAttrs(ctx, slog.LevelWarn, "discovery: serving stale metadata after failed refresh",
				slog.String("issuer", issuer), slog.Time("fetched", old.fetched), slog.Any("error", err))
			return old.md, nil
		}
		return nil, err
	}
	c.entries[issuer] = cacheEntry{md: md, fetched: now}
	return md, nil
}
