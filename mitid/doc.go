// Package mitid holds helpers for the Signaturgruppen MitID broker (formerly
// Nets eID Broker; issuer https://netseidbroker.dk/op, pre-production
// https://pp.netseidbroker.dk/op).
//
// The broker speaks standard OpenID Connect with PAR (RFC 9126), plus custom
// authorization request parameters. This package builds those parameters as
// [oauth2.AuthCodeOption] values, validated against the broker's
// documentation, so they can be passed to the client's Push. [IDPValues] and
// [Language] take constants and return no error (a malformed constant is a
// programming error and panics); the config-style types [Params],
// [SignText] and [Simulation] hold caller data, validate it in their Options
// method and name the bad parameter in a *[ParamError]:
//
//	params, err := mitid.Params{LoA: mitid.Substantial, ReferenceText: "Log på Netbank"}.Options()
//	...
//	flow, err := c.Push(ctx, append(params, mitid.IDPValues(mitid.MitID), mitid.Language(mitid.Danish))...)
//
// After the login, [Claims] decodes the broker's ID token and UserInfo claims,
// whose values are often strings ("88", "true"), into plain Go types, and
// [Claims.RequireLevel] enforces a minimum NSIS level of assurance (the
// broker issues no acr claim; assurance is in loa, ial and aal).
// [Claims.DisplayName] finds the user's name wherever MitID or MitID
// Erhverv put it. The broker puts these claims in UserInfo, not in the ID
// token of a code-flow login: decode both.
//
// [Identity] gives the user's claims from every place the broker puts
// them — the ID token, the verified userinfo_token and UserInfo — merged,
// each source's sub checked against the ID token's:
//
//	id, err := mitid.Identity(ctx, c, tokens)
//	name := id.DisplayName()
//
// To have the user sign a text with MitID, push it in
// Params.TransactionText with the transaction_token scope and a signed
// request object (client.Config.RequestObject); [VerifySigningToken]
// verifies the broker's signed evidence, the transaction_token, with the
// broker's separate transaction key and checks that its
// transaction_text_sha256 is the SHA-256 of that text. The Go names say
// "signing token": the broker's transaction token is unrelated to the
// IETF OAuth Transaction Tokens draft.
//
// A login the broker ends without a code (the user cancelled, the browser
// lost its cookies, MitID failed) reaches the app as an error whose
// error_description is one of the broker's published codes.
// [OutcomeOf] sorts them into groups, each with a fixed message, and
// [UserCancelled] recognises the cancel:
//
//	if mitid.UserCancelled(err) { … } // access_denied + mitid_user_aborted, and seven more codes
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
