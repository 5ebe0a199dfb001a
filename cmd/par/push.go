package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/go-par/par/client"
	"github.com/go-par/par/dpop"
	"github.com/go-par/par/keys"
)

// clientFlags are the flags push and login share.
type clientFlags struct {
	issuer, clientID, secret, keyFile, keyPassword string
	authMethod, redirectURI, profile, caFile       string
	scopes                                         multiFlag
	params                                         multiFlag
	timeout                                        time.Duration
	dpop                                           bool
	// responseMode, responseKey (encrypted JARM responses) and details
	// (RFC 9396 authorization_details, a JSON file).
	responseMode, responseKey, details string
}

// secretValue is a flag.Value for a secret (client secret, PKCS#12
// password). Its String is always empty, so the flag package never shows
// the value: not as the "(default …)" of --help, which the environment
// fills in, and not in parse errors. Every flag that takes a secret must
// use it (TestSecretFlagsUseSecretValue).
type secretValue struct{ s *string }

func (v secretValue) String() string { return "" }

func (v secretValue) Set(s string) error { *v.s = s; return nil }

// multiFlag is a repeatable string flag.
type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, " ") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

func (c *cli) addClientFlags(fs *flag.FlagSet, defaultRedirect string) *clientFlags {
	f := &clientFlags{}
	env := func(name, def string) string {
		if v := c.getenv(name); v != "" {
			return v
		}
		return def
	}
	fs.StringVar(&f.issuer, "issuer", env("PAR_ISSUER", ""), "issuer `URL` (env PAR_ISSUER)")
	fs.StringVar(&f.clientID, "client-id", env("PAR_CLIENT_ID", ""), "client_id (env PAR_CLIENT_ID)")
	// Secrets take their environment default without showing it in --help.
	f.secret, f.keyPassword = c.getenv("PAR_CLIENT_SECRET"), c.getenv("PAR_KEY_PASSWORD")
	fs.Var(secretValue{&f.secret}, "secret", "client `secret` (env PAR_CLIENT_SECRET, preferred: flags show in ps; never shown here)")
	fs.StringVar(&f.keyFile, "key", env("PAR_KEY_FILE", ""), "private key `file` for private_key_jwt: PEM, JWK(S), PKCS#12 (env PAR_KEY_FILE)")
	fs.Var(secretValue{&f.keyPassword}, "key-password", "PKCS#12 `password` (env PAR_KEY_PASSWORD, preferred; never shown here)")
	fs.StringVar(&f.authMethod, "auth-method", env("PAR_AUTH_METHOD", ""),
		"client_secret_basic (default with --secret), client_secret_post, client_secret_jwt, private_key_jwt (default with --key), none")
	fs.StringVar(&f.redirectURI, "redirect-uri", env("PAR_REDIRECT_URL", defaultRedirect), "redirect_uri (env PAR_REDIRECT_URL)")
	fs.StringVar(&f.profile, "profile", env("PAR_PROFILE", "default"), "default, broker (MitID broker) or fapi2 (env PAR_PROFILE)")
	fs.Var(&f.scopes, "scope", `scope; repeat or separate with spaces (env PAR_SCOPES; default "openid")`)
	fs.Var(&f.params, "param", "extra authorization parameter `k=v`; repeat (env PAR_PARAMS: k=v&k=v)")
	fs.DurationVar(&f.timeout, "timeout", 30*time.Second, "timeout of each call to the provider")
	fs.StringVar(&f.caFile, "ca-file", env("PAR_CA_FILE", ""), caFileUsage)
	fs.BoolVar(&f.dpop, "dpop", false, "bind the code and tokens to a fresh DPoP key (RFC 9449; implied by --profile fapi2)")
	fs.StringVar(&f.responseMode, "response-mode", env("PAR_RESPONSE_MODE", ""),
		"response_mode: query (default), form_post, or JWT-secured (JARM) jwt, query.jwt, form_post.jwt (env PAR_RESPONSE_MODE)")
	fs.StringVar(&f.responseKey, "response-key", env("PAR_RESPONSE_KEY_FILE", ""),
		"private key `file` that decrypts encrypted JARM responses: PEM, JWK(S) (the use enc key), PKCS#12 with --key-password (env PAR_RESPONSE_KEY_FILE)")
	fs.StringVar(&f.details, "authorization-details", "",
		"`file` holding authorization_details (RFC 9396): a JSON array of objects, each with a type")
	return f
}

// maxDetailsFile caps the --authorization-details file.
const maxDetailsFile = 64 << 10

// authorizationDetails reads the --authorization-details file: a JSON
// array whose objects become the push's details, kept exactly (Push checks
// them further before anything is sent).
func (f *clientFlags) authorizationDetails() ([]client.AuthorizationDetail, error) {
	if f.details == "" {
		return nil, nil
	}
	file, err := os.Open(f.details)
	if err != nil {
		return nil, usageErrorf("--authorization-details: %v", err)
	}
	defer file.Close()
	data, err := io.ReadAll(io.LimitReader(file, maxDetailsFile+1))
	if err != nil {
		return nil, usageErrorf("--authorization-details: %v", err)
	}
	if len(data) > maxDetailsFile {
		return nil, usageErrorf("--authorization-details %s: larger than 64 KiB", f.details)
	}
	var details []client.AuthorizationDetail
	if err := json.Unmarshal(data, &details); err != nil || !strings.HasPrefix(strings.TrimSpace(string(data)), "[") {
		return nil, usageErrorf("--authorization-details %s: want a JSON array of objects (RFC 9396 §2)", f.details)
	}
	return details, nil
}

// parseParam splits one --param value k=v; the value is taken literally.
func parseParam(s string) (string, string, error) {
	k, v, ok := strings.Cut(s, "=")
	if !ok || k == "" {
		return "", "", usageErrorf("--param %q: want name=value", s)
	}
	if strings.ContainsAny(k, " \t\r\n&") {
		return "", "", usageErrorf("--param %q: the name must not contain spaces or &", s)
	}
	return k, v, nil
}

// options returns the push options: --param values, then PAR_PARAMS.
func (f *clientFlags) options(getenv func(string) string) ([]client.Option, []string, error) {
	seen := map[string]string{}
	var names []string
	for _, p := range f.params {
		k, v, err := parseParam(p)
		if err != nil {
			return nil, nil, err
		}
		if _, dup := seen[k]; dup {
			return nil, nil, usageErrorf("--param %s given twice", k)
		}
		seen[k] = v
		names = append(names, k)
	}
	if env := getenv("PAR_PARAMS"); env != "" {
		q, err := url.ParseQuery(env)
		if err != nil {
			return nil, nil, usageErrorf("PAR_PARAMS is not k=v&k=v (URL-encoded): %v", err)
		}
		for k, vs := range q {
			if _, ok := seen[k]; !ok && k != "" {
				seen[k] = vs[0]
				names = append(names, k)
			}
		}
	}
	slices.Sort(names)
	var opts []client.Option
	for _, k := range names {
		opts = append(opts, client.WithParam(k, seen[k]))
	}
	details, err := f.authorizationDetails()
	if err != nil {
		return nil, nil, err
	}
	if details != nil {
		if _, dup := seen["authorization_details"]; dup {
			return nil, nil, usageErrorf("authorization_details given both as --param and --authorization-details")
		}
		opts = append(opts, client.WithAuthorizationDetails(details...))
		names = append(names, "authorization_details")
	}
	return opts, names, nil
}

// newClient builds the client from the flags, running discovery.
func (f *clientFlags) newClient(ctx context.Context, getenv func(string) string, redirectURI string) (*client.Client, error) {
	if f.issuer == "" {
		return nil, usageErrorf("--issuer is required (or set PAR_ISSUER)")
	}
	if f.clientID == "" {
		return nil, usageErrorf("--client-id is required (or set PAR_CLIENT_ID)")
	}
	if redirectURI == "" {
		return nil, usageErrorf("--redirect-uri is required (or set PAR_REDIRECT_URL): the redirect_uri registered for the client")
	}
	auth, err := f.auth()
	if err != nil {
		return nil, err
	}
	var profile client.Profile
	switch f.profile {
	case "", "default":
	case "broker":
		profile = client.ProfileBroker
	case "fapi2", "fapi":
		profile = client.ProfileFAPI2
	default:
		return nil, usageErrorf("--profile %q: want default, broker or fapi2", f.profile)
	}
	scopes := strings.Fields(strings.Join(f.scopes, " "))
	if len(scopes) == 0 {
		scopes = strings.Fields(getenv("PAR_SCOPES"))
	}
	hc, err := httpClient(f.caFile, f.timeout)
	if err != nil {
		return nil, err
	}
	cfg := client.Config{
		Issuer:      f.issuer,
		ClientID:    f.clientID,
		Auth:        auth,
		RedirectURL: redirectURI,
		Scopes:      scopes,
		HTTPClient:  hc,
		Profile:     profile,
	}
	cfg.ResponseMode = f.responseMode
	if f.responseKey != "" {
		k, err := keys.LoadDecryptionFile(f.responseKey, f.keyPassword)
		if err != nil {
			return nil, &usageError{fmt.Sprintf("--response-key %s: %v", f.responseKey, err)}
		}
		cfg.ResponseDecryptionKey = k.Decrypter
	}
	if f.dpop || profile == client.ProfileFAPI2 {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return nil, err
		}
		if cfg.DPoP, err = dpop.NewProofer(k, nil); err != nil {
			return nil, err
		}
	}
	ctx, cancel := context.WithTimeout(ctx, f.timeout)
	defer cancel()
	c, err := client.New(ctx, cfg)
	if err != nil {
		if strings.HasPrefix(err.Error(), "client: config: ") { // a flag at fault, named in the error
			return nil, &usageError{err.Error()}
		}
		return nil, err
	}
	return c, nil
}

func (f *clientFlags) auth() (client.AuthMethod, error) {
	method := f.authMethod
	if method == "" {
		switch {
		case f.keyFile != "":
			method = "private_key_jwt"
		case f.secret != "":
			method = "client_secret_basic"
		default:
			return nil, usageErrorf("no client credentials: give --secret (or PAR_CLIENT_SECRET), --key (or PAR_KEY_FILE), or --auth-method none for a public client")
		}
	}
	needSecret := func() error {
		if f.secret == "" {
			return usageErrorf("--auth-method %s needs --secret (or PAR_CLIENT_SECRET)", method)
		}
		return nil
	}
	switch method {
	case "client_secret_basic":
		return client.ClientSecretBasic(f.secret), needSecret()
	case "client_secret_post":
		return client.ClientSecretPost(f.secret), needSecret()
	case "client_secret_jwt":
		return client.ClientSecretJWT(f.secret), needSecret()
	case "none":
		return client.None(), nil
	case "private_key_jwt":
		if f.keyFile == "" {
			return nil, usageErrorf("--auth-method private_key_jwt needs --key (or PAR_KEY_FILE)")
		}
		k, err := keys.LoadFile(f.keyFile, f.keyPassword)
		if err != nil {
			return nil, &usageError{fmt.Sprintf("--key %s: %v", f.keyFile, err)}
		}
		return client.PrivateKeyJWT(k.Signer, k.KeyID), nil
	}
	return nil, usageErrorf("--auth-method %q: want client_secret_basic, client_secret_post, client_secret_jwt, private_key_jwt or none", method)
}

// pushResult is what push prints.
type pushResult struct {
	AuthorizationURL string    `json:"authorization_url"`
	RequestURI       string    `json:"request_uri"`
	ExpiresIn        int       `json:"expires_in"`
	ExpiresAt        time.Time `json:"expires_at"`
	Parameters       []string  `json:"extra_parameters,omitempty"`
}

func (c *cli) push(ctx context.Context, args []string) int {
	fs, jsonOut := c.flagSet("push", "[flags]",
		"Pushes an authorization request (RFC 9126 §2) with fresh state, nonce and PKCE S256, and prints the\n"+
			"authorization URL (client_id and request_uri only), the request_uri and its expiry. The flow's secrets\n"+
			"are not kept: use par login to complete a login.")
	f := c.addClientFlags(fs, "")
	if code, done := c.parse(fs, args); done {
		return code
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(c.stderr, "par push: unexpected argument %q (flags only; see par push --help)\n", fs.Arg(0))
		return exitUsage
	}
	opts, names, err := f.options(c.getenv)
	if err != nil {
		return c.fail(*jsonOut, "push", err, "")
	}
	cl, err := f.newClient(ctx, c.getenv, f.redirectURI)
	if err != nil {
		return c.fail(*jsonOut, "push", err, clientHint(err))
	}
	pctx, cancel := context.WithTimeout(ctx, f.timeout)
	defer cancel()
	start := time.Now()
	flow, err := cl.Push(pctx, opts...)
	if err != nil {
		return c.fail(*jsonOut, "push", err, pushHint(err))
	}
	u, err := cl.AuthorizationURL(flow)
	if err != nil {
		return c.fail(*jsonOut, "push", err, "")
	}
	res := pushResult{AuthorizationURL: u, RequestURI: flow.RequestURI, ExpiresAt: flow.ExpiresAt.UTC(),
		ExpiresIn: int(flow.ExpiresAt.Sub(start).Round(time.Second).Seconds()), Parameters: names}
	if *jsonOut {
		c.writeJSON(res)
		return exitOK
	}
	fmt.Fprintf(c.stdout, "authorization URL  %s\nrequest_uri        %s\nexpires            in %ds, at %s\n",
		res.AuthorizationURL, res.RequestURI, res.ExpiresIn, res.ExpiresAt.Format(time.RFC3339))
	if len(names) > 0 {
		fmt.Fprintf(c.stdout, "extra parameters   %s\n", strings.Join(names, " "))
	}
	return exitOK
}

// clientHint suggests a fix for a failed client.New.
func clientHint(err error) string {
	switch {
	case exitCode(err) == exitNetwork:
		return "the provider did not answer: check --issuer and your network"
	case strings.Contains(err.Error(), "issuer mismatch"):
		return "give --issuer exactly as the provider's metadata spells it"
	case strings.Contains(err.Error(), "Profile") || strings.Contains(err.Error(), "profile"):
		return "the chosen --profile refuses this configuration; the message names the setting"
	}
	return ""
}

// pushHint suggests a fix for a failed push, from the provider's error code.
func pushHint(err error) string {
	if errors.Is(err, client.ErrInvalidAuthorizationDetails) {
		return "fix the --authorization-details file: a JSON array of objects, each with a type the provider lists"
	}
	var re *client.ResponseError
	if !errors.As(err, &re) {
		return clientHint(err)
	}
	switch re.Code {
	case "invalid_client":
		return "the provider did not accept the client credentials: check --client-id, --secret/--key and --auth-method"
	case "invalid_request":
		if strings.Contains(strings.ToLower(re.Description), "redirect") {
			return "check that --redirect-uri is registered for the client, exactly"
		}
		return "the provider refused a parameter: see the description"
	case "invalid_scope":
		return "ask only for scopes the client may use (--scope)"
	case "unauthorized_client":
		return "the client is not allowed this grant or PAR at this provider"
	}
	if re.Temporary() {
		return "the provider is busy; try again later"
	}
	return ""
}
