package partest_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/go-par/par/partest"
)

// ExampleBrokerConfig runs the MitID broker's CIBA→PAR flow with plain
// net/http against the broker-shaped server: backchannel authentication,
// init-auth, the user's browser login at the authentication_uri, and token
// polling with the CIBA grant. The server runs in-process on a clock the
// example advances, so the 3 s interval takes no time.
func ExampleBrokerConfig() {
	var mu sync.Mutex
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	cfg := partest.BrokerConfig(partest.Client{ID: "rp", Secret: "s+cr/t=", RedirectURIs: []string{"https://rp.example/cb"}})
	cfg.InProcess = true
	cfg.Now = func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	srv := partest.NewServer(cfg)
	defer srv.Close()
	md := srv.Metadata()

	post := func(endpoint string, form url.Values) map[string]any {
		req, _ := http.NewRequest(http.MethodPost, endpoint, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(url.QueryEscape("rp"), url.QueryEscape("s+cr/t=")) // RFC 6749 §2.3.1
		resp, err := srv.Client().Do(req)
		if err != nil {
			panic(err)
		}
		defer resp.Body.Close()
		var body map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&body)
		return body
	}
	poll := func(id string) map[string]any {
		mu.Lock()
		now = now.Add(3 * time.Second)
		mu.Unlock()
		return post(md["token_endpoint"].(string), url.Values{"grant_type": {partest.GrantTypeCIBA}, "auth_req_id": {id}})
	}

	start := post(md["backchannel_authentication_endpoint"].(string), url.Values{
		"scope":            {"openid mitid"},
		"login_hint_token": {`{"flow_type":"broker_oidc","idp_values":"mitid","prompt":"login"}`},
	})
	id := start["auth_req_id"].(string)
	fmt.Println("expires_in", start["expires_in"], "interval", start["interval"])
	fmt.Println("poll:", poll(id)["error"])

	ia := post(srv.Issuer()+"/api/ciba/broker-oidc/init-auth", url.Values{"requestId": {id}})
	fmt.Println("request_uri lifetime:", ia["expires_in"])
	params, err := srv.Login(ia["authentication_uri"].(string))
	fmt.Println("browser:", len(params), "parameters, error", err)

	tok := poll(id)
	fmt.Println("poll:", tok["token_type"], tok["expires_in"])
	fmt.Println("poll again:", poll(id)["error"])
	// Output:
	// expires_in 300 interval 3
	// poll: authorization_pending
	// request_uri lifetime: 600
	// browser: 0 parameters, error <nil>
	// poll: Bearer 10800
	// poll again: invalid_grant
}
