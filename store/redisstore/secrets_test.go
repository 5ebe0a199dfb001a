package redisstore_test

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/go-par/par/store/redisstore"
)

// TestSecretHygiene: Options and Store (the types of this module that
// hold a secret: the AES-256 key) never show the key under %v, %+v, %s,
// %#v or slog's JSON and text handlers. hostile.TestSecretTypesCovered
// reads the quoted type names of this file as the types covered here.
func TestSecretHygiene(t *testing.T) {
	t.Parallel()
	key := []byte(("KEY-MARKER-" + rand.Text() + rand.Text())[:redisstore.KeySize])
	markers := map[string]string{
		string(key):                                    "key",
		fmt.Sprint(key)[1:40]:                          "key (decimal bytes)",
		hex.EncodeToString(key)[:24]:                   "key (hex)",
		fmt.Sprintf("%#v", key)[8:48]:                  "key (%#v bytes)",
		base64.StdEncoding.EncodeToString(key)[:20]:    "key (base64)",
		base64.RawURLEncoding.EncodeToString(key)[:20]: "key (base64url)",
	}
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", Password: "REDIS-PASSWORD-MARKER-" + rand.Text()}) // New does no I/O
	t.Cleanup(func() { rdb.Close() })
	markers[rdb.Options().Password] = "redis password"
	opts := redisstore.Options{Prefix: "app:", Timeout: time.Second, Key: key}
	st, err := redisstore.New(rdb, opts)
	if err != nil {
		t.Fatal(err)
	}
	types := []struct {
		name   string
		values []any
	}{
		{"redisstore.Options", []any{opts, &opts}},
		{"redisstore.Store", []any{st}},
	}
	found := 0
	for _, tt := range types {
		for _, v := range tt.values {
			outs := map[string]string{}
			for _, verb := range []string{"%v", "%+v", "%s", "%#v"} {
				outs[verb] = fmt.Sprintf(verb, v)
			}
			var js, tx bytes.Buffer
			slog.New(slog.NewJSONHandler(&js, nil)).Info("v", "v", v)
			slog.New(slog.NewTextHandler(&tx, nil)).Info("v", "v", v)
			outs["slog JSON"], outs["slog text"] = js.String(), tx.String()
			for how, out := range outs {
				for m, what := range markers {
					if strings.Contains(out, m) {
						found++
						t.Errorf("%s (%T) under %s shows the %s: %s", tt.name, v, how, what, out)
					}
				}
				if !strings.Contains(out, "redacted") {
					t.Errorf("%s (%T) under %s has no redaction note: %s", tt.name, v, how, out)
				}
			}
		}
	}
	// At column 0, as hostile's summary, so that scripts/test.sh shows it.
	fmt.Printf("secrets: redisstore: %d markers × 4 verbs and slog × %d types: %d found\n", len(markers), len(types), found)
}
