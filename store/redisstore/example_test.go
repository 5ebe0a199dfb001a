package redisstore_test

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/go-par/par/client"
	"github.com/go-par/par/login"
	"github.com/go-par/par/store/redisstore"
)

// Example shares login flows between the replicas of an app. Every replica
// gets the same Key (32 random bytes from your secret store) so that the
// PKCE verifiers are encrypted at rest; the store then goes into
// login.Config.Store.
func Example() {
	ctx := context.Background()
	rdb := redis.NewClient(&redis.Options{
		Addr:                  sharedAddr, // e.g. "redis:6379"
		ContextTimeoutEnabled: true,       // let Options.Timeout bound network reads
	})
	defer rdb.Close()

	key := make([]byte, redisstore.KeySize) // in production: the same key on every replica
	rand.Read(key)
	st, err := redisstore.New(rdb, redisstore.Options{Key: key, Prefix: "example:flow:"})
	if err != nil {
		log.Fatal(err)
	}
	// login.New(login.Config{Client: c, Store: st}) does the Save and Take
	// below for you; here they are called directly.
	flow := &client.Flow{State: rand.Text(), Nonce: rand.Text(), CodeVerifier: rand.Text() + rand.Text(),
		Issuer: "https://pp.netseidbroker.dk/op", RedirectURL: "https://app.example/callback"}
	if err := st.Save(ctx, nil, nil, flow, time.Now().Add(10*time.Minute)); err != nil {
		log.Fatal(err) // errors.Is(err, redisstore.ErrUnavailable) when Redis is down
	}

	got, err := st.Take(ctx, nil, nil, flow.State) // on any replica
	fmt.Println(got.Issuer, err)
	_, err = st.Take(ctx, nil, nil, flow.State) // a replayed callback
	fmt.Println(errors.Is(err, login.ErrFlowNotFound))
	// Output:
	// https://pp.netseidbroker.dk/op <nil>
	// true
}

// ExampleStore_Take_unavailable shows the error of a Take when Redis cannot
// be reached: it matches ErrUnavailable and names no flow.
func ExampleStore_Take_unavailable() {
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1}) // nothing listens there
	defer rdb.Close()
	key := make([]byte, redisstore.KeySize)
	rand.Read(key)
	st, err := redisstore.New(rdb, redisstore.Options{Key: key, Timeout: 500 * time.Millisecond})
	if err != nil {
		log.Fatal(err)
	}
	_, err = st.Take(context.Background(), nil, nil, "some-state")
	var e *redisstore.Error
	fmt.Println(errors.Is(err, redisstore.ErrUnavailable), errors.As(err, &e) && e.Op == "take")
	// Output:
	// true true
}
