package partest

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	jose "github.com/go-jose/go-jose/v4"
)

// logoutReceiver is a client's back-channel logout URI: it records the
// logout tokens posted to it.
type logoutReceiver struct {
	mu     sync.Mutex
	tokens []string
	srv    *httptest.Server
}

func newLogoutReceiver(t *testing.T) *logoutReceiver {
	t.Helper()
	lr := &logoutReceiver{}
	lr.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/x-www-form-urlencoded" {
			http.Error(w, "want a form POST", http.StatusBadRequest)
			return
		}
		if err := r.ParseForm(); err != nil || len(r.PostForm) != 1 || r.PostForm.Get("logout_token") == "" {
			http.Error(w, "want logout_token only", http.StatusBadRequest)
			return
		}
		lr.mu.Lock()
		lr.tokens = append(lr.tokens, r.PostForm.Get("logout_token"))
		lr.mu.Unlock()
	}))
	t.Cleanup(lr.srv.Close)
	return lr
}

func (lr *logoutReceiver) got() []string {
	lr.mu.Lock()
	defer lr.mu.Unlock()
	return append([]string(nil), lr.tokens...)
}

// loginIDToken logs f in for the basic client and returns the verified
// claims of its ID token and the raw token.
func loginIDToken(t *testing.T, srv *Server, f flow, extra url.Values) (map[string]any, string) {
	t.Helper()
	form := f.parParams("app")
	for k, v := range extra {
		form[k] = v
	}
	uri := push(t, srv, form, basic("app", "s3cret"))
	params, err := srv.Login(authURL(srv, "app", uri))
	if err != nil || params.Get("code") == "" {
		t.Fatalf("Login: %v %v", params, err)
	}
	r := post(t, srv, srv.endpointURL(pathToken), tokenForm(params.Get("code"), f), basic("app", "s3cret"))
	if r.status != http.StatusOK {
		t.Fatalf("token: %d %s", r.status, r.raw)
	}
	raw := r.str("id_token")
	return verifyIDToken(t, srv, raw), raw
}

func TestBackchannelLogout(t *testing.T) {
	t.Parallel()
	lr := newLogoutReceiver(t)
	c := basicClient()
	c.BackchannelLogoutURI = lr.srv.URL + "/backchannel"
	c.PostLogoutRedirectURIs = []string{"https://rp.example/bye"}
	srv := newServer(t, Config{Clients: []Client{c}})

	claims, _ := loginIDToken(t, srv, newFlow(), nil)
	sid, _ := claims["sid"].(string)
	if sid == "" {
		t.Fatalf("ID token of a client with a logout URI has no sid: %v", claims)
	}
	if got := srv.Sessions("app"); len(got) != 1 || got[0] != sid {
		t.Fatalf("Sessions = %v, want [%s]", got, sid)
	}
	if err := srv.EndSession(context.Background(), sid); err != nil {
		t.Fatalf("EndSession: %v", err)
	}
	toks := lr.got()
	if len(toks) != 1 {
		t.Fatalf("logout tokens posted = %d, want 1", len(toks))
	}
	obj, err := jose.ParseSignedCompact(toks[0], []jose.SignatureAlgorithm{jose.RS256})
	if err != nil {
		t.Fatal(err)
	}
	if typ := obj.Signatures[0].Protected.ExtraHeaders["typ"]; typ != "logout+jwt" {
		t.Errorf("typ = %v, want logout+jwt", typ)
	}
	lt := verifyIDToken(t, srv, toks[0])
	events, _ := lt["events"].(map[string]any)
	if _, ok := events[logoutEvent].(map[string]any); !ok || lt["sid"] != sid || lt["sub"] != "alice" ||
		lt["aud"] != "app" || lt["iss"] != srv.Issuer() || lt["jti"] == nil || lt["iat"] == nil || lt["exp"] == nil || lt["nonce"] != nil {
		t.Errorf("logout token claims = %v", lt)
	}
	if got := srv.Sessions("app"); len(got) != 0 {
		t.Errorf("Sessions after EndSession = %v, want none", got)
	}

	// RP-initiated logout with the ID token of a second login: the session
	// of the hint ends, a logout token goes out, then the redirect.
	claims2, raw2 := loginIDToken(t, srv, newFlow(), nil)
	r := get(t, srv, srv.endpointURL(pathEndSession)+"?"+url.Values{"id_token_hint": {raw2},
		"post_logout_redirect_uri": {"https://rp.example/bye"}, "state": {"st"}}.Encode(), nil)
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "https://rp.example/bye?state=st" {
		t.Errorf("end session = %d %q, want 303 to the post-logout URI", r.status, r.header.Get("Location"))
	}
	if toks := lr.got(); len(toks) != 2 || verifyIDToken(t, srv, toks[1])["sid"] != claims2["sid"] {
		t.Errorf("after RP-initiated logout: %d logout tokens, want a second one for the hint's sid", len(toks))
	}

	// A delivery that is not answered 200 is an error of EndSession.
	claims3, _ := loginIDToken(t, srv, newFlow(), nil)
	lr.srv.Close()
	if err := srv.EndSession(context.Background(), claims3["sid"].(string)); err == nil {
		t.Error("EndSession with the client's logout URI down: nil error")
	}
	if err := srv.EndSession(context.Background(), "no-such-sid"); err == nil {
		t.Error("EndSession of an unknown sid: nil error")
	}
}

func TestFrontchannelLogoutPage(t *testing.T) {
	t.Parallel()
	c := basicClient()
	c.FrontchannelLogoutURI = "https://rp.example/fc?x=1"
	srv := newServer(t, Config{Clients: []Client{c}})
	claims, _ := loginIDToken(t, srv, newFlow(), nil)
	sid := claims["sid"].(string)
	resp, err := srv.Client().Get(srv.LogoutPageURL(sid))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	want := `<iframe src="https://rp.example/fc?iss=` + url.QueryEscape(srv.Issuer()) + `&amp;sid=` + sid + `&amp;x=1"`
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), want) || !strings.Contains(string(body), "Signed out") {
		t.Errorf("logout page = %d:\n%s\nwant an iframe %s", resp.StatusCode, body, want)
	}
	if got := srv.Sessions("app"); len(got) != 0 {
		t.Errorf("Sessions after the logout page = %v, want none", got)
	}
	resp, err = srv.Client().Get(srv.LogoutPageURL("unknown"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("logout page of an unknown sid = %d, want 400", resp.StatusCode)
	}
}

// TestStepUpLevels: acr_values come back as the ID token's acr; at the
// broker, idp_params.mitid.loa_value sets loa, aal and acr, and
// enable_step_up needs prompt=login and a level.
func TestStepUpLevels(t *testing.T) {
	t.Parallel()
	srv := newServer(t, Config{Clients: []Client{basicClient()}})
	claims, _ := loginIDToken(t, srv, newFlow(), url.Values{"acr_values": {"urn:gold urn:silver"}})
	if claims["acr"] != "urn:gold" {
		t.Errorf("acr = %v, want the first acr_values, urn:gold", claims["acr"])
	}

	bc := BrokerConfig(basicClient())
	// A user at Substantial whose identity allows High (ial), first.
	bc.Users[0].Claims["ial"] = nsisURI + "High"
	broker := newServer(t, bc)
	high := nsisURI + "High"
	step := url.Values{"idp_params": {`{"mitid":{"loa_value":"high","enable_step_up":true}}`}, "prompt": {"login"}}
	claims, _ = loginIDToken(t, broker, newFlow(), step)
	if claims["loa"] != high || claims["acr"] != high || claims["aal"] != high {
		t.Errorf("broker step-up: loa %v acr %v aal %v, want %s", claims["loa"], claims["acr"], claims["aal"], high)
	}
	// A user whose identity is Substantial reaches no higher.
	capped, _ := loginIDToken(t, broker, newFlow(), url.Values{"login_hint": {bc.Users[2].Subject},
		"idp_params": {`{"mitid":{"loa_value":"high","enable_step_up":true}}`}, "prompt": {"login"}})
	if capped["loa"] != nsisURI+"Substantial" {
		t.Errorf("step-up to High of a Substantial identity: loa %v, want Substantial", capped["loa"])
	}
	for name, form := range map[string]url.Values{
		"step-up without prompt=login": {"idp_params": {`{"mitid":{"loa_value":"high","enable_step_up":true}}`}},
		"step-up without level":        {"idp_params": {`{"mitid":{"enable_step_up":true}}`}, "prompt": {"login"}},
		"unknown level":                {"idp_params": {`{"mitid":{"loa_value":"extreme"}}`}},
	} {
		f := newFlow().parParams("app")
		for k, v := range form {
			f[k] = v
		}
		r := post(t, broker, broker.endpointURL(pathPAR), f, basic("app", "s3cret"))
		if r.status != http.StatusBadRequest {
			t.Errorf("%s: PAR = %d %s, want 400", name, r.status, r.raw)
		}
	}
	// UserInfo says the same level as the ID token.
	f := newFlow()
	form := f.parParams("app")
	for k, v := range step {
		form[k] = v
	}
	uri := push(t, broker, form, basic("app", "s3cret"))
	params, _ := broker.Login(authURL(broker, "app", uri))
	tr := post(t, broker, broker.endpointURL(pathToken), tokenForm(params.Get("code"), f), basic("app", "s3cret"))
	ui := get(t, broker, broker.endpointURL(pathUserinfo), http.Header{"Authorization": {"Bearer " + tr.str("access_token")}})
	if ui.body["loa"] != high {
		t.Errorf("broker UserInfo loa after step-up = %v, want %s", ui.body["loa"], high)
	}
}

// TestMountedLogin: a server mounted with Handler on the caller's own
// listener (Config.URL, no Start) logs users in; Client and Login used to
// dereference the unstarted httptest server.
func TestMountedLogin(t *testing.T) {
	t.Parallel()
	var h http.Handler
	web := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.ServeHTTP(w, r) }))
	t.Cleanup(web.Close)
	srv := NewUnstartedServer(Config{URL: web.URL, Clients: []Client{basicClient()}})
	h = srv.Handler()
	f := newFlow()
	uri := push(t, srv, f.parParams("app"), basic("app", "s3cret"))
	params, err := srv.Login(authURL(srv, "app", uri))
	if err != nil || params.Get("code") == "" {
		t.Fatalf("Login on a mounted server = %v, %v", params, err)
	}
}
