package redisstore_test

// The app replica of the multi-process tests: the test binary started
// again with GOPAR_SESSION_REPLICA set runs an app (login, sessions on
// Redis, a resource call through the session's client, back-channel
// logout) on the listener it inherits as file descriptor 3, configured
// from the environment, until it is killed.

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/go-par/par/client"
	"github.com/go-par/par/login"
	"github.com/go-par/par/session"
	"github.com/go-par/par/store/redisstore"
)

const envReplica = "GOPAR_SESSION_REPLICA"

func runReplica() int {
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	fail := func(err error) int {
		logger.Error("replica", slog.String("error", err.Error()))
		return 1
	}
	ln, err := net.FileListener(os.NewFile(3, "listener"))
	if err != nil {
		return fail(err)
	}
	env := os.Getenv
	sessionKey, err1 := hex.DecodeString(env("GOPAR_SESSION_KEY"))
	flowKey, err2 := hex.DecodeString(env("GOPAR_FLOW_KEY"))
	if err := errors.Join(err1, err2); err != nil {
		return fail(err)
	}
	base := "http://" + ln.Addr().String()
	refreshBefore, err := time.ParseDuration(env("GOPAR_REFRESH_BEFORE"))
	if err != nil {
		return fail(err)
	}
	ctx := context.Background()
	rdb := redis.NewClient(&redis.Options{Addr: env("GOPAR_REDIS"), ContextTimeoutEnabled: true, PoolSize: 64})
	defer rdb.Close()
	c, err := client.New(ctx, client.Config{Issuer: env("GOPAR_ISSUER"), ClientID: "app",
		Auth: client.ClientSecretBasic(env("GOPAR_SECRET")), RedirectURL: base + "/auth/callback",
		HTTPClient: client.NewHTTPClient(nil)})
	if err != nil {
		return fail(err)
	}
	flows, err := redisstore.New(rdb, redisstore.Options{Key: flowKey})
	if err != nil {
		return fail(err)
	}
	sessions, err := redisstore.NewSessions(rdb, redisstore.SessionOptions{})
	if err != nil {
		return fail(err)
	}
	m, err := session.New(session.Config{
		Client: c, Store: sessions, Keys: [][]byte{sessionKey}, DPoP: env("GOPAR_DPOP") == "1", RefreshBefore: refreshBefore,
		// Plain http on 127.0.0.1 between processes: the cookie jar of
		// the test sends no Secure cookie over http.
		Cookie: session.CookieConfig{InsecureCookie: true},
		Login:  login.Config{Store: flows, Cookie: login.CookieConfig{InsecureCookie: true}, InsecureNoStartLimits: true},
		OnLogin: func(w http.ResponseWriter, r *http.Request, _ *session.Session) {
			http.Redirect(w, r, "/me", http.StatusSeeOther)
		},
		Logger: logger,
	})
	if err != nil {
		return fail(err)
	}
	resource := env("GOPAR_RESOURCE")
	mux := http.NewServeMux()
	mux.Handle("/auth/", m.Login().Mux("/auth"))
	mux.HandleFunc("POST /auth/backchannel", m.BackChannelLogout)
	mux.HandleFunc("GET /me", func(w http.ResponseWriter, r *http.Request) {
		s, err := m.Session(w, r)
		if err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		fmt.Fprintf(w, "%s on %s", s.Subject, base)
	})
	mux.HandleFunc("GET /api", func(w http.ResponseWriter, r *http.Request) {
		hc, err := m.Client(w, r)
		if err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		resp, err := hc.Get(resource)
		switch {
		case errors.Is(err, session.ErrEnded), errors.Is(err, session.ErrNoSession):
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		case err != nil:
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		w.WriteHeader(resp.StatusCode)
		w.Write(b)
	})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	fmt.Println("READY " + base)
	if err := srv.Serve(ln); err != nil {
		return fail(err)
	}
	return 0
}
