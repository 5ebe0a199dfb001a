package site

import "html/template"

// stepInfo explains a step beside the timeline.
type stepInfo struct {
	Title   string
	Text    string
	RefText string
	RefURL  template.URL
}

var stepInfos = map[string]stepInfo{
	kindDiscovery: {
		Title:   "Discovery",
		Text:    "The app reads the provider's metadata: where the PAR, authorization, token, UserInfo and key endpoints are, whether PAR is required, and whether the provider returns iss in the callback. The issuer in the document must equal the configured one exactly.",
		RefText: "OpenID Connect Discovery 1.0 §4; RFC 9126 §5",
		RefURL:  "https://www.rfc-editor.org/rfc/rfc9126#section-5",
	},
	kindPush: {
		Title:   "1. Push the authorization request (back channel)",
		Text:    "Instead of putting the request in the browser's URL, the app POSTs every parameter — scope, redirect_uri, state, nonce, the PKCE code_challenge — straight to the provider, authenticated as the client. The browser never sees them, so they cannot be read or changed there. The provider answers 201 Created with a one-time request_uri that stands for this request, and how many seconds it lives (expires_in).",
		RefText: "RFC 9126 §2.1 (request), §2.2 (response)",
		RefURL:  "https://www.rfc-editor.org/rfc/rfc9126#section-2.1",
	},
	kindAuthorize: {
		Title:   "2. Redirect the browser to the provider",
		Text:    "The app sends the browser to the authorization endpoint with exactly two parameters: client_id and the request_uri. The provider looks up the pushed request behind the request_uri; anything else in the URL would be ignored. Each request_uri is used once and never after it expires — a late login pushes again. The user now logs in at the provider; the app sees nothing of that.",
		RefText: "RFC 9126 §4",
		RefURL:  "https://www.rfc-editor.org/rfc/rfc9126#section-4",
	},
	kindCallback: {
		Title:   "3. Callback: the provider sends the browser back",
		Text:    "The browser returns to the redirect_uri with a one-time authorization code, the state the app pushed, and iss, the provider's issuer. The app takes its saved flow out of the store by state (single use), checks that this browser started it, and checks iss so that a response from another provider cannot be mixed up with this one.",
		RefText: "RFC 6749 §4.1.2; RFC 9207 §2",
		RefURL:  "https://www.rfc-editor.org/rfc/rfc9207#section-2.4",
	},
	kindJARM: {
		Title:   "3a. Open the JWT-secured response (JARM)",
		Text:    "With a JWT response mode (jwt, query.jwt, form_post.jwt) the callback carries one parameter, response: a JWT the provider signed, and encrypted to the app when it registered an encryption key. The app decrypts it, checks the signature with the provider's keys (never none, never HS256 with the client secret), that iss is the provider and aud this client, and that it has not expired and is short-lived. Only then does it read the code and state inside, which take the same checks as a plain callback's.",
		RefText: "JARM §2.4; FAPI 2.0 Message Signing §5.4",
		RefURL:  "https://openid.net/specs/oauth-v2-jarm.html",
	},
	kindToken: {
		Title:   "4. Exchange the code for tokens (back channel)",
		Text:    "The app POSTs the code to the token endpoint with the PKCE code_verifier (which only the app knows: it proves the code was not stolen from the browser) and the same client authentication as the push. The answer holds the ID token, an access token and perhaps a refresh token.",
		RefText: "RFC 6749 §4.1.3; RFC 7636 §4.5",
		RefURL:  "https://www.rfc-editor.org/rfc/rfc7636#section-4.5",
	},
	kindJWKS: {
		Title:   "Provider keys",
		Text:    "The first ID token to verify makes the app fetch the provider's public keys from jwks_uri; they are cached for the whole process and refetched only when a token names an unknown key.",
		RefText: "OpenID Connect Core 1.0 §10.1.1; RFC 7517 §5",
		RefURL:  "https://openid.net/specs/openid-connect-core-1_0.html#RotateSigKeys",
	},
	kindIDToken: {
		Title:   "5. Verify the ID token",
		Text:    "The ID token says who logged in. The app trusts it only after checking its signature against the provider's keys, that it was issued by this provider for this client, that it has not expired, and that its nonce is the one pushed in step 1.",
		RefText: "OpenID Connect Core 1.0 §3.1.3.7",
		RefURL:  "https://openid.net/specs/openid-connect-core-1_0.html#IDTokenValidation",
	},
	kindUserinfo: {
		Title:   "6. UserInfo",
		Text:    "With the access token the app asks the UserInfo endpoint for the user's claims. Its sub must equal the ID token's. Brokers such as the MitID broker keep the ID token small and put most claims here.",
		RefText: "OpenID Connect Core 1.0 §5.3",
		RefURL:  "https://openid.net/specs/openid-connect-core-1_0.html#UserInfo",
	},
	kindEndSession: {
		Title:   "End session",
		Text:    "Logout at the provider (RP-Initiated Logout) with id_token_hint.",
		RefText: "OpenID Connect RP-Initiated Logout 1.0 §2",
		RefURL:  "https://openid.net/specs/openid-connect-rpinitiated-1_0.html#RPLogout",
	},
	kindHTTP: {
		Title: "Other provider call",
		Text:  "A call to the provider outside the PAR steps.",
	},
}

func stepInfoFor(kind string) stepInfo {
	if i, ok := stepInfos[kind]; ok {
		return i
	}
	return stepInfos[kindHTTP]
}
