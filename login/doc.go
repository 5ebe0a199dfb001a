// Package login is the web-app side of a PAR login: net/http handlers that
// start a login, take the callback and log out, and the stores that keep
// each flow between the push and the callback.
//
//	h, err := login.New(login.Config{
//		Client: c, // a *client.Client whose RedirectURL ends in /auth/callback
//		OnLogin: func(w http.ResponseWriter, r *http.Request, t *client.Tokens) {
//			// t.IDToken is verified; start the app's session here.
//		},
//	})
//	mux.Handle("/auth/", h.Mux("/auth")) // POST /auth/login, /auth/callback, /auth/logout
//
// [Handler.Start] pushes the authorization request (RFC 9126 §2), saves the
// flow and redirects the browser with only client_id and request_uri. It is
// a POST from the app's own pages by default; cross-site starts are
// refused (FAPI 2.0 Security Profile §5.3.3.1 item 12). [Handler.Callback]
// takes the flow out of the store once (a replayed callback gets
// [ErrFlowNotFound]), checks that the same browser started it, and
// exchanges the code with [client.Client.Exchange]. Failures reach
// Config.OnError as an [*Error] whose cause errors.Is / errors.As can test.
//
// Flows live in a [MemoryStore] (default; one process), a [CookieStore]
// (AES-256-GCM cookies bound to the flow's state; no server state), or any
// [Store], such as a shared Redis store. With server-side stores the
// Handler sets a small binding cookie per flow so that a callback is only
// accepted from the browser that started the flow (RFC 9700 §4.7).
//
// Package session builds on the Handler: with Config.DPoPPerLogin each
// login gets a DPoP key of its own, kept sealed in the flow and handed on
// with the tokens; Config.OnLoginFlow gets the completed flow too; and
// [Handler.StartWith] starts a login from the app's own handler (a
// step-up, RFC 9470) with extra parameters.
//
// # Exposure of the login start
//
// Start is open to anybody who can reach the app, before any
// authentication, and each start costs a pushed authorization request at
// the provider (which limits and may bill the app's PAR calls) and a
// stored flow (memory, cookie or Redis) for FlowLifetime. A script that
// POSTs to Start in a loop would spend the app's quota at the provider and
// fill the flow store, so that real users could not log in. The Handler
// therefore limits starts out of the box (Config.StartLimits): 50 per
// second per client address with bursts of 100 (IPv6 by /64), and 200 per
// second for the Handler as a whole with bursts of 400; a start over a
// limit gets 429 with Retry-After ([ErrRateLimited]) and pushes nothing.
// The [MemoryStore] also caps its pending flows (MemoryOptions.MaxFlows,
// 200,000), above what the global default can fill in a 10-minute flow
// lifetime. The client address is the peer of the connection
// (r.RemoteAddr); behind a reverse proxy set StartLimits.ClientAddress to
// [ForwardedFor], or every user shares the proxy's budget. These limits
// are per Handler, in one process: n replicas allow n times the global
// rate. They are a floor, not a defence against a distributed attack:
// rate limiting at the edge (reverse proxy, WAF) is still the place for
// that, and Config.InsecureNoStartLimits turns the built-in guard off
// where the edge does the job.
package login
