package discovery_test

import (
	"testing"

	"github.com/go-par/par/discovery"
)

func BenchmarkParse(b *testing.B) {
	data := fixture(b, "broker-pp.json", "")
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := discovery.Parse(data, brokerIssuer); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCacheGetHit(b *testing.B) {
	s := newSwitchable(b, 0)
	c := discovery.NewCache(discovery.CacheConfig{HTTPClient: s.srv.Client()})
	if _, err := c.Get(b.Context(), s.issuer()); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := c.Get(b.Context(), s.issuer()); err != nil {
				b.Error(err)
				return
			}
		}
	})
	if got := s.requests.Load(); got != 1 {
		b.Errorf("requests = %d, want 1", got)
	}
}
