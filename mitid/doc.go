// Package mitid holds helpers for the Signaturgruppen MitID broker (formerly
// Nets eID Broker; issuer https://netseidbroker.dk/op, pre-production
// https://pp.netseidbroker.dk/op).
//
// The broker speaks standard OpenID Connect with PAR (RFC 9126), plus custom
// authorization request parameters. This package builds those parameters as
// [oauth2.AuthCodeOption] values, validated against the broker's
// documentation, so they can be passed to the client's Push:
//
//	idps, err := mitid.IDPValues(mitid.MitID)
//	...
//	params, err := mitid.Params{MitID: &mitid.MitIDParams{
//		LoA:           mitid.Substantial,
//		ReferenceText: "Log på Netbank",
//	}}.Options()
//	...
//	flow, err := c.Push(ctx, append(params, idps)...)
//
// After the login, [Claims] decodes the broker's ID token and UserInfo claims,
// whose values are often strings ("88", "true"), and [Claims.RequireLevel]
// enforces a minimum NSIS level of assurance (the broker issues no acr claim;
// assurance is in loa, ial and aal).
//
// [CIBA] runs backend-initiated flows (OpenID CIBA Core, poll mode) and the
// broker's CIBA→PAR bridge: Start sends the backchannel authentication
// request with the flow's parameters inside login_hint_token, InitAuth turns
// it into an authorization URL the user opens on any device, Poll waits for
// the result (honouring interval and slow_down), Cancel ends it. It sends
// its authenticated requests through the *client.Client's back channel
// ([client.Client.Post], and [client.Client.Grant] for the token polls), so
// the client's authentication applies and the ID token gets the same check
// as after a code exchange.
//
// Broker documentation: https://signaturgruppen-a-s.github.io/signaturgruppen-broker-documentation/
// (pages oidc-integration, idps/mitid, idps/mitid-erhverv, issued-claims-tokens,
// transactionsigning/transactionsigning_par, enterprise/simulation,
// ciba-par-oidc-integration, enterprise/flex-app-ciba).
//
// Everything here is safe for concurrent use. Errors never carry the values
// of hints, texts or claims, only their names.
package mitid
