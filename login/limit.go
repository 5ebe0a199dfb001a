package login

import (
	"container/list"
	"errors"
	"fmt"
	"math"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"
)

// RateLimit is a token bucket: Rate starts per second on average, and up to
// Burst at once after a quiet spell.
type RateLimit struct {
	// Rate is the sustained rate, in starts per second.
	Rate float64
	// Burst is the bucket's size. Default: twice Rate, at least 1.
	Burst int
}

// StartLimits guard [Handler.Start]. Every start costs the app a pushed
// authorization request at the provider (RFC 9126 §2; providers limit
// clients' PAR calls) and a stored flow, and anybody may send one: without
// limits one script could spend the app's quota at the provider and fill
// the flow store. Start refuses a start over a limit with [ErrRateLimited]
// (429 Too Many Requests and Retry-After, RFC 6585 §4) before it pushes.
// Fields left zero take the defaults; the limits are on unless
// Config.InsecureNoStartLimits.
type StartLimits struct {
	// PerClient limits the starts of one client address. Default 50 per
	// second with bursts of 100: far above what people behind one address,
	// even a large office's NAT, start at their peak.
	PerClient RateLimit
	// Global limits the starts of this Handler together. Default 200 per
	// second with bursts of 400: at most 720,000 pushes an hour from one
	// instance, and at most 120,400 pending flows in a 10-minute flow
	// lifetime, below the MemoryStore's default cap of 200,000
	// (MemoryOptions.MaxFlows), so the store never fills up at the default
	// rate. Raise it for an instance that must start more logins.
	Global RateLimit
	// MaxClients bounds the table of per-address buckets; beyond it the
	// least recently seen address is forgotten (it starts again with a full
	// bucket; the Global limit still holds). An address idle for
	// Burst/Rate seconds is forgotten anyway, as its bucket is full again.
	// Default 10,000 (about 1.5 MB).
	MaxClients int
	// ClientAddress returns the address a request is counted against. The
	// limiter counts IPv6 addresses by their /64 prefix, since one host
	// commonly holds a whole /64. Default: the IP of r.RemoteAddr. Behind a
	// reverse proxy every request comes from the proxy's address, so all
	// users would share one bucket: use [ForwardedFor] with the number of
	// proxies, which trusts X-Forwarded-For only as far as they wrote it.
	ClientAddress func(r *http.Request) string
}

// Default start limits; see [StartLimits].
const (
	DefaultPerClientRate  = 50
	DefaultPerClientBurst = 100
	DefaultGlobalRate     = 200
	DefaultGlobalBurst    = 400
	DefaultMaxClients     = 10_000
)

// RemoteAddress is the default StartLimits.ClientAddress: the IP of
// r.RemoteAddr, the peer of the connection.
func RemoteAddress(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// ForwardedFor returns a StartLimits.ClientAddress for an app behind a
// chain of reverse proxies (their number is proxies), each of which appends
// the address it received the request from to X-Forwarded-For: it takes
// the proxies-th address from the right, the one the outermost proxy saw. Entries further
// left were written by the client and are ignored, so a client cannot
// choose its own address. A request with fewer entries than proxies did
// not pass through all of them and is counted by its RemoteAddr.
//
// Use it only when every request reaches the app through those proxies:
// otherwise a client that connects directly writes the header itself.
func ForwardedFor(proxies int) func(r *http.Request) string {
	if proxies < 1 {
		proxies = 1
	}
	return func(r *http.Request) string {
		var entries []string
		for _, h := range r.Header.Values("X-Forwarded-For") {
			for e := range strings.SplitSeq(h, ",") {
				entries = append(entries, strings.TrimSpace(e))
			}
		}
		if len(entries) < proxies {
			return RemoteAddress(r)
		}
		e := entries[len(entries)-proxies]
		if host, _, err := net.SplitHostPort(e); err == nil {
			e = host // "ip:port" or "[ipv6]:port"
		}
		return e
	}
}

// limiter applies StartLimits. It is safe for concurrent use.
type limiter struct {
	perClient, global RateLimit
	max               int
	addr              func(*http.Request) string

	mu      sync.Mutex
	all     bucket
	clients map[string]*list.Element // of *clientBucket
	lru     list.List                // most recently seen first
}

type clientBucket struct {
	key string
	b   bucket
}

// bucket is a token bucket's state: tokens left at last.
type bucket struct {
	tokens float64
	last   time.Time
}

// take refills b for the time since its last use and takes a token. It
// returns 0, or how long until a token is available when there is none.
func (b *bucket) take(l RateLimit, now time.Time) time.Duration {
	if d := now.Sub(b.last); d > 0 {
		b.tokens = math.Min(float64(l.Burst), b.tokens+d.Seconds()*l.Rate)
		b.last = now
	}
	if b.tokens >= 1 {
		b.tokens--
		return 0
	}
	return time.Duration((1 - b.tokens) / l.Rate * float64(time.Second))
}

// newLimiter checks and completes the limits.
func newLimiter(sl StartLimits, now time.Time) (*limiter, error) {
	l := &limiter{perClient: sl.PerClient, global: sl.Global, max: sl.MaxClients, addr: sl.ClientAddress,
		clients: make(map[string]*list.Element)}
	for _, c := range []struct {
		name string
		rl   *RateLimit
		def  RateLimit
	}{
		{"PerClient", &l.perClient, RateLimit{DefaultPerClientRate, DefaultPerClientBurst}},
		{"Global", &l.global, RateLimit{DefaultGlobalRate, DefaultGlobalBurst}},
	} {
		switch {
		case c.rl.Rate < 0 || math.IsNaN(c.rl.Rate) || math.IsInf(c.rl.Rate, 0) || c.rl.Burst < 0:
			return nil, fmt.Errorf("login: config: StartLimits.%s: rate and burst must be positive (InsecureNoStartLimits turns the limits off)", c.name)
		case c.rl.Rate == 0 && c.rl.Burst == 0:
			*c.rl = c.def
		case c.rl.Rate == 0:
			return nil, fmt.Errorf("login: config: StartLimits.%s: Burst without Rate", c.name)
		case c.rl.Burst == 0:
			c.rl.Burst = int(math.Max(1, math.Ceil(2*c.rl.Rate)))
		}
	}
	if l.max < 0 {
		return nil, errors.New("login: config: StartLimits.MaxClients is negative")
	}
	if l.max == 0 {
		l.max = DefaultMaxClients
	}
	if l.addr == nil {
		l.addr = RemoteAddress
	}
	l.all = bucket{tokens: float64(l.global.Burst), last: now}
	return l, nil
}

// allow takes a token from r's client address and from the global bucket.
// It returns nil, or an error wrapping ErrRateLimited and how long to wait.
func (l *limiter) allow(r *http.Request, now time.Time) (time.Duration, error) {
	key := clientKey(l.addr(r))
	l.mu.Lock()
	defer l.mu.Unlock()
	cb := l.client(key, now)
	if wait := cb.b.take(l.perClient, now); wait > 0 {
		return wait, fmt.Errorf("%w from this client address (StartLimits.PerClient: %g per second)", ErrRateLimited, l.perClient.Rate)
	}
	if wait := l.all.take(l.global, now); wait > 0 {
		cb.b.tokens++ // not started: the client keeps its token
		return wait, fmt.Errorf("%w in total (StartLimits.Global: %g per second)", ErrRateLimited, l.global.Rate)
	}
	return 0, nil
}

// client returns key's bucket, most recently seen from now on, making it
// (and forgetting idle or least recently seen addresses) when it is new.
// l.mu is held.
func (l *limiter) client(key string, now time.Time) *clientBucket {
	if e, ok := l.clients[key]; ok {
		l.lru.MoveToFront(e)
		return e.Value.(*clientBucket)
	}
	// A bucket that has been idle for Burst/Rate is full again: forgetting
	// it changes nothing. Drop a few such from the back as we go.
	full := time.Duration(float64(l.perClient.Burst) / l.perClient.Rate * float64(time.Second))
	for range 2 {
		back := l.lru.Back()
		if back == nil || now.Sub(back.Value.(*clientBucket).b.last) < full {
			break
		}
		l.forget(back)
	}
	if l.lru.Len() >= l.max {
		l.forget(l.lru.Back())
	}
	cb := &clientBucket{key: key, b: bucket{tokens: float64(l.perClient.Burst), last: now}}
	l.clients[key] = l.lru.PushFront(cb)
	return cb
}

func (l *limiter) forget(e *list.Element) {
	delete(l.clients, e.Value.(*clientBucket).key)
	l.lru.Remove(e)
}

// len is the number of addresses in the table.
func (l *limiter) len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.lru.Len()
}

// clientKey normalises a client address: an IPv6 address becomes its /64
// prefix (one host or one home network), an IPv4-mapped one the IPv4
// address; anything else is kept, at most 64 bytes of it.
func clientKey(addr string) string {
	if ip, err := netip.ParseAddr(strings.Trim(addr, "[]")); err == nil {
		ip = ip.Unmap().WithZone("")
		if ip.Is6() {
			p, _ := ip.Prefix(64)
			return p.String()
		}
		return ip.String()
	}
	if len(addr) > 64 {
		addr = addr[:64]
	}
	return addr
}
