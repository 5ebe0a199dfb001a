package hostile_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"golang.org/x/oauth2"

	"github.com/go-par/par/client"
	"github.com/go-par/par/discovery"
	"github.com/go-par/par/dpop"
	"github.com/go-par/par/internal/backchannel"
	"github.com/go-par/par/internal/dpopwire"
	"github.com/go-par/par/internal/joseutil"
	"github.com/go-par/par/internal/redact"
	"github.com/go-par/par/internal/seal"
	"github.com/go-par/par/jar"
	"github.com/go-par/par/keys"
	"github.com/go-par/par/login"
	"github.com/go-par/par/mitid"
	"github.com/go-par/par/session"
)

// markerSet makes unique marker secrets and remembers every encoding of
// them that would show if one leaked.
type markerSet struct {
	t *testing.T
	m map[string]string // marker → what it is
}

func newMarkers() *markerSet { return &markerSet{m: map[string]string{}} }

// secret returns a fresh marker string of at least 32 bytes.
func (ms *markerSet) secret(what string) string {
	s := "MARKER-" + strings.ReplaceAll(what, " ", "-") + "-" + rand.Text()
	ms.m[s] = what
	ms.m[url.QueryEscape(s)] = what + " (form-encoded)"
	return s
}

// bytes returns a fresh marker key of n bytes and its encodings: as text,
// as fmt prints a []byte (decimal), hex, %#v, base64.
func (ms *markerSet) bytes(what string, n int) []byte {
	b := []byte(ms.secret(what))[:n]
	ms.m[fmt.Sprint(b)[1:40]] = what + " (decimal bytes)"
	ms.m[hex.EncodeToString(b)[:24]] = what + " (hex)"
	ms.m[fmt.Sprintf("%#v", b)[8:48]] = what + " (%#v bytes)"
	ms.m[base64.StdEncoding.EncodeToString(b)[:20]] = what + " (base64)"
	ms.m[base64.RawURLEncoding.EncodeToString(b)[:20]] = what + " (base64url)"
	return b
}

// key returns a fresh P-256 key and the encodings of its secret scalar.
func (ms *markerSet) key(what string) *ecdsa.PrivateKey {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(err)
	}
	d, err := k.Bytes()
	if err != nil {
		panic(err)
	}
	ms.m[base64.RawURLEncoding.EncodeToString(d)[:16]] = what + " (JWK d)"
	ms.m[hex.EncodeToString(d)[:16]] = what + " (hex d)"
	ms.m[k.D.String()[:16]] = what + " (decimal d)"
	return k
}

// secretType is an exported type that holds a secret, with values of it
// made of markers: the forms users hold (T, *T) and variants that hold
// different kinds of secret.
type secretType struct {
	name   string // pkg.Type, as TestSecretTypesCovered names it
	values []any
	// holds are the secrets the values must really contain (a reflect walk
	// checks it), so that the hygiene check cannot pass vacuously.
	holds []any // marker strings, or key pointers
	// opaque, when set, says why holds is empty: the secret is reachable
	// only as derived state (an AES key schedule inside crypto/cipher).
	opaque string
}

// secretTypes returns every secret-holding type of the core module with
// values made of fresh markers (added to ms). store/redisstore has its own
// table (its module cannot be imported here).
func secretTypes(t *testing.T, ms *markerSet) []secretType {
	t.Helper()
	ctx := context.Background()
	md := &discovery.Metadata{Issuer: "https://op.example", AuthorizationEndpoint: "https://op.example/authorize",
		TokenEndpoint: "https://op.example/token", PushedAuthorizationRequestEndpoint: "https://op.example/par",
		JWKSURI: "https://op.example/jwks", BackchannelAuthenticationEndpoint: "https://op.example/ciba"}

	flow := client.Flow{State: ms.secret("flow state"), Nonce: ms.secret("flow nonce"), CodeVerifier: ms.secret("code verifier"),
		RequestURI: "urn:ietf:params:oauth:request_uri:x", ExpiresAt: time.Now().Add(time.Minute), Issuer: md.Issuer,
		RedirectURL: "https://app.example/callback"}
	access, refresh, idt := ms.secret("access token"), ms.secret("refresh token"), ms.secret("id token")
	tok := (&oauth2.Token{AccessToken: access, RefreshToken: refresh, TokenType: "Bearer",
		Expiry: time.Now().Add(time.Hour)}).WithExtra(map[string]any{"id_token": idt})
	tokens := client.Tokens{Token: tok, RawIDToken: idt}

	basic, post, hs := ms.secret("client secret basic"), ms.secret("client secret post"), ms.secret("client secret jwt")
	clientKey, jarKey, dpopKey, keysKey := ms.key("client key"), ms.key("request object key"), ms.key("dpop key"), ms.key("keys.Key key")
	jarSecret := ms.bytes("request object secret", 32)
	proofer, err := dpop.NewProofer(dpopKey, nil)
	if err != nil {
		t.Fatal(err)
	}
	compact, ok := joseutil.NewCompactSigner(clientKey, jose.ES256, "k1", "")
	if !ok {
		t.Fatal("no CompactSigner for a P-256 key")
	}
	jarHS := jar.Config{ClientID: "app", Audience: md.Issuer, Secret: jarSecret}
	jarEC := jar.Config{ClientID: "app", Audience: md.Issuer, Signer: jarKey, KeyID: "k1"}
	builderHS, err := jar.New(jarHS)
	if err != nil {
		t.Fatal(err)
	}
	builderEC, err := jar.New(jarEC)
	if err != nil {
		t.Fatal(err)
	}
	cfgBasic := client.Config{Metadata: md, ClientID: "app", Auth: client.ClientSecretBasic(basic), RedirectURL: "https://app.example/callback",
		RequestObject: &jarHS, DPoP: proofer}
	respKey := ms.key("response decryption key")
	cfgJWT := client.Config{Metadata: md, ClientID: "app", Auth: client.PrivateKeyJWT(clientKey, "k1"), RedirectURL: "https://app.example/callback",
		RequestObject: &jarEC, ResponseDecryptionKey: respKey}
	cfgPost := client.Config{Metadata: md, ClientID: "app", Auth: client.ClientSecretPost(post), RedirectURL: "https://app.example/callback"}
	c, err := client.New(ctx, cfgBasic)
	if err != nil {
		t.Fatal(err)
	}
	cJWT, err := client.New(ctx, cfgJWT)
	if err != nil {
		t.Fatal(err)
	}
	cPost, err := client.New(ctx, cfgPost)
	if err != nil {
		t.Fatal(err)
	}
	k, err := keys.New(keysKey, nil)
	if err != nil {
		t.Fatal(err)
	}
	decKey := ms.key("keys.DecryptionKey key")
	dk, err := keys.NewDecryptionKey(decKey)
	if err != nil {
		t.Fatal(err)
	}

	cookieKey := ms.bytes("cookie key", 32)
	cc := login.CookieConfig{Keys: [][]byte{cookieKey}, InsecureCookie: true}
	cookies, err := login.NewCookieStore(cc)
	if err != nil {
		t.Fatal(err)
	}
	mem := login.NewMemoryStore(login.MemoryOptions{})
	memFlow := flow
	memFlow.State, memFlow.Nonce, memFlow.CodeVerifier = ms.secret("stored state"), ms.secret("stored nonce"), ms.secret("stored verifier")
	if err := mem.Save(ctx, nil, nil, &memFlow, memFlow.ExpiresAt); err != nil {
		t.Fatal(err)
	}
	lcfg := login.Config{Client: c, Store: mem, Cookie: cc}
	h, err := login.New(login.Config{Client: c, Store: mem})
	if err != nil {
		t.Fatal(err)
	}
	hCookies, err := login.New(login.Config{Client: cPost, Cookie: cc})
	if err != nil {
		t.Fatal(err)
	}

	authReq := mitid.AuthRequest{ID: ms.secret("auth_req_id"), ExpiresAt: time.Now().Add(time.Minute), Interval: 5 * time.Second}
	initParams := mitid.InitAuthParams{RedirectURI: "https://app.example/ciba", State: ms.secret("init-auth state")}
	mp := mitid.Params{LoA: mitid.Substantial, TransferTokenExchangeCode: ms.secret("transfer code"),
		TransferTokenText: "transfer", CPRHint: "0102031234"}
	ms.m["0102031234"] = "cpr hint"
	echoed := &redact.Values{}
	echoed.Add(basic, post)
	cibaCfg := mitid.CIBAConfig{Client: c}
	ciba, err := mitid.NewCIBA(cibaCfg)
	if err != nil {
		t.Fatal(err)
	}

	// The back channel (internal, but its values pass through the client):
	// a channel with the client's authentication and DPoP key, a request
	// with a code and an access token, and a real response to it, which
	// keeps the requests sent (for redaction).
	bcSecret := ms.secret("back channel client secret")
	bcCode, bcToken := ms.secret("back channel code"), ms.secret("back channel access token")
	bcSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprint(w, `{"error":"invalid_grant"}`)
	}))
	defer bcSrv.Close()
	channel := backchannel.Channel{HTTPClient: bcSrv.Client(), Auth: markerAuth(bcSecret), DPoP: proofer,
		Nonces: &dpopwire.MemoryStore{}, Logger: slog.New(slog.DiscardHandler)}
	bcReq := backchannel.Request{Name: "token", URL: bcSrv.URL + "/token", Form: url.Values{"code": {bcCode}}, DPoP: true}
	bcResp, err := channel.Do(ctx, bcReq)
	if err != nil {
		t.Fatal(err)
	}
	bcGet := backchannel.Request{Name: "userinfo", URL: bcSrv.URL + "/userinfo", Token: bcToken}
	sealer, err := seal.New(ms.bytes("sealer key", seal.KeySize))
	if err != nil {
		t.Fatal(err)
	}

	// Sessions: a Manager keyed with a marker key, on a memory store holding
	// a refresh lock (its token is a secret of the lock holder).
	sessionKey := ms.bytes("session key", 32)
	sessStore := session.NewMemoryStore(nil)
	lockToken, _, err := sessStore.Lock(ctx, "l:x", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	ms.m[lockToken] = "session lock token"
	scfg := session.Config{Client: cPost, Store: sessStore, Keys: [][]byte{sessionKey}, Login: login.Config{Cookie: cc}}
	sm, err := session.New(scfg)
	if err != nil {
		t.Fatal(err)
	}

	return []secretType{
		{name: "session.Config", values: []any{scfg, &scfg}, holds: []any{string(sessionKey), post, string(cookieKey), lockToken}},
		{name: "session.Manager", values: []any{sm}, holds: []any{post, lockToken}},
		{name: "session.MemoryStore", values: []any{sessStore}, holds: []any{lockToken}},
		{name: "backchannel.Channel", values: []any{channel, &channel}, holds: []any{bcSecret, dpopKey}},
		{name: "backchannel.Request", values: []any{bcReq, &bcReq, bcGet}, holds: []any{bcCode, bcToken}},
		{name: "backchannel.Response", values: []any{bcResp, &bcResp}, holds: []any{bcCode, bcSecret}},
		{name: "seal.Sealer", values: []any{sealer}, opaque: "the keys live only as AES key schedules inside crypto/cipher"},
		{name: "client.Flow", values: []any{flow, &flow}, holds: []any{flow.State, flow.Nonce, flow.CodeVerifier}},
		{name: "client.Tokens", values: []any{tokens, &tokens}, holds: []any{access, refresh, idt}},
		{name: "client.Config", values: []any{cfgBasic, &cfgBasic, cfgJWT, cfgPost}, holds: []any{basic, string(jarSecret), clientKey, dpopKey, post, respKey}},
		{name: "client.Client", values: []any{c, cJWT, cPost}, holds: []any{basic, clientKey, post, respKey}},
		{name: "client.JWTAuth", values: []any{client.ClientSecretJWT(hs), *client.ClientSecretJWT(hs), client.PrivateKeyJWT(clientKey, "k1")},
			holds: []any{hs, clientKey}},
		{name: "client.secretAuth", values: []any{client.ClientSecretBasic(basic), client.ClientSecretPost(post)}, holds: []any{basic, post}},
		{name: "jar.Config", values: []any{jarHS, &jarHS, jarEC, &jarEC}, holds: []any{string(jarSecret), jarKey}},
		{name: "jar.Builder", values: []any{builderHS, builderEC}, holds: []any{string(jarSecret), jarKey}},
		{name: "dpop.Proofer", values: []any{proofer}, holds: []any{dpopKey}},
		{name: "joseutil.CompactSigner", values: []any{compact, *compact}, holds: []any{clientKey}},
		{name: "dpop.Transport", values: []any{&dpop.Transport{Proofer: proofer, Source: oauth2.StaticTokenSource(tok)}},
			holds: []any{access, dpopKey}},
		{name: "keys.Key", values: []any{*k, k}, holds: []any{keysKey}},
		{name: "keys.DecryptionKey", values: []any{*dk, dk}, holds: []any{decKey}},
		{name: "login.CookieConfig", values: []any{cc, &cc}, holds: []any{string(cookieKey)}},
		{name: "login.CookieStore", values: []any{cookies}, opaque: "the cookie keys live only as AES key schedules inside crypto/cipher"},
		{name: "login.MemoryStore", values: []any{mem}, holds: []any{memFlow.State, memFlow.CodeVerifier}},
		{name: "login.Config", values: []any{lcfg, &lcfg}, holds: []any{basic, string(cookieKey), memFlow.CodeVerifier}},
		{name: "login.Handler", values: []any{h, hCookies}, holds: []any{basic, post, memFlow.CodeVerifier}},
		{name: "mitid.AuthRequest", values: []any{authReq, &authReq}, holds: []any{authReq.ID}},
		{name: "mitid.InitAuthParams", values: []any{initParams, &initParams}, holds: []any{initParams.State}},
		{name: "mitid.Params", values: []any{mp, &mp}, holds: []any{mp.TransferTokenExchangeCode, "0102031234"}},
		{name: "mitid.CIBAConfig", values: []any{cibaCfg, &cibaCfg}, holds: []any{basic}},
		{name: "mitid.CIBA", values: []any{ciba}, holds: []any{basic}},
		{name: "redact.Values", values: []any{echoed, *echoed}, holds: []any{basic, post}},
	}
}

// markerAuth is a back-channel client authentication with a marker
// secret (client_secret_basic's shape).
type markerAuth string

func (a markerAuth) Authenticate(_ url.Values, h http.Header) error {
	h.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte("app:"+string(a))))
	return nil
}

// verbs are the fmt verbs every secret-holding type must redact under.
var verbs = []string{"%v", "%+v", "%s", "%#v"}

// checkSecretTypes formats every value of every type with the four verbs
// and logs it with slog's JSON and text handlers, and reports each marker
// of ms that shows. It returns the number of leaks.
func checkSecretTypes(t *testing.T, types []secretType, ms *markerSet) (leaks int) {
	t.Helper()
	for _, st := range types {
		found := len(st.holds) == 0 && st.opaque != ""
		for _, h := range st.holds {
			if reachable(st.values, h) {
				found = true
				break
			}
		}
		if !found {
			t.Errorf("%s: the values hold none of their secrets: the check would pass vacuously", st.name)
		}
		for i, v := range st.values {
			outs := map[string]string{}
			for _, verb := range verbs {
				outs[verb] = fmt.Sprintf(verb, v)
			}
			var js, tx bytes.Buffer
			slog.New(slog.NewJSONHandler(&js, &slog.HandlerOptions{Level: slog.LevelDebug})).Debug("v", "v", v)
			slog.New(slog.NewTextHandler(&tx, &slog.HandlerOptions{Level: slog.LevelDebug})).Debug("v", "v", v)
			outs["slog JSON"], outs["slog text"] = js.String(), tx.String()
			for how, out := range outs {
				for m, what := range ms.m {
					if strings.Contains(out, m) {
						leaks++
						t.Errorf("%s (value %d, %T) under %s shows the %s: %s", st.name, i, v, how, what, excerpt(out, m))
					}
				}
			}
		}
	}
	return leaks
}

// reachable reports whether want (a string marker or a pointer) is
// reachable from any of values, through exported and unexported fields.
func reachable(values []any, want any) bool {
	seen := map[uintptr]bool{}
	var walk func(v reflect.Value, depth int) bool
	walk = func(v reflect.Value, depth int) bool {
		if !v.IsValid() || depth > 40 {
			return false
		}
		switch v.Kind() {
		case reflect.String:
			s, ok := want.(string)
			return ok && strings.Contains(v.String(), s)
		case reflect.Pointer, reflect.UnsafePointer:
			if v.IsNil() {
				return false
			}
			if w := reflect.ValueOf(want); w.Kind() == reflect.Pointer && w.Pointer() == v.Pointer() {
				return true
			}
			if seen[v.Pointer()] || v.Kind() == reflect.UnsafePointer {
				return false
			}
			seen[v.Pointer()] = true
			return walk(v.Elem(), depth+1)
		case reflect.Interface:
			return walk(v.Elem(), depth+1)
		case reflect.Struct:
			for i := range v.NumField() {
				if walk(v.Field(i), depth+1) {
					return true
				}
			}
		case reflect.Slice, reflect.Array:
			if v.Kind() == reflect.Slice && v.Type().Elem().Kind() == reflect.Uint8 {
				s, ok := want.(string)
				return ok && bytes.Contains(v.Bytes(), []byte(s))
			}
			for i := range min(v.Len(), 64) {
				if walk(v.Index(i), depth+1) {
					return true
				}
			}
		case reflect.Map:
			it := v.MapRange()
			for it.Next() {
				if walk(it.Key(), depth+1) || walk(it.Value(), depth+1) {
					return true
				}
			}
		}
		return false
	}
	for _, v := range values {
		if walk(reflect.ValueOf(v), 0) {
			return true
		}
	}
	return false
}
