package site

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/go-par/par/client"
	"github.com/go-par/par/dpop"
	"github.com/go-par/par/keys"
	"github.com/go-par/par/mitid"
	"github.com/go-par/par/partest"
)

// Config is what the environment says; the zero value runs the embedded
// test provider.
type Config struct {
	Issuer         string
	ClientID       string
	ClientSecret   string
	KeyFile        string
	KeyPassword    string
	AuthMethod     string
	RedirectURL    string
	PostLogoutURL  string
	Scopes         []string
	Params         url.Values
	ProfileName    string
	InsecureCookie bool
	CAFile         string
	// ResponseMode and ResponseKeyFile: JWT-secured responses (JARM).
	ResponseMode    string
	ResponseKeyFile string
}

// EnvHelp documents the environment variables, for -h and the package
// comment.
const EnvHelp = `Environment (all optional; without PAR_ISSUER an embedded partest provider is used):
  PAR_ISSUER              issuer of a real provider, e.g. https://pp.netseidbroker.dk/op
  PAR_CLIENT_ID           client_id registered at the provider
  PAR_CLIENT_SECRET       client secret (client_secret_basic unless PAR_AUTH_METHOD says otherwise)
  PAR_KEY_FILE            private key for private_key_jwt: PEM, JWK/JWKS or PKCS#12 (.p12, OCES3)
  PAR_KEY_PASSWORD        password of a PKCS#12 key file
  PAR_AUTH_METHOD         client_secret_basic (default with a secret), client_secret_post,
                          client_secret_jwt, private_key_jwt (default with a key file)
  PAR_REDIRECT_URL        redirect_uri registered at the provider
                          (default http://<addr>/auth/callback)
  PAR_POST_LOGOUT_URL     post_logout_redirect_uri registered at the provider (default: none)
  PAR_SCOPES              space-separated scopes (default "openid"; embedded: "openid mitid")
  PAR_PARAMS              extra authorization parameters, k=v&k=v (URL-encoded), e.g.
                          idp_values=mitid&language=da
  PAR_PROFILE             default, broker (MitID broker) or fapi2 (FAPI 2.0: needs PAR_KEY_FILE;
                          DPoP with a fresh key per run)
  PAR_CA_FILE             PEM CA certificates to trust besides the system's (a provider with a
                          private CA); the client keeps HTTP/2 and its connection pool
                          (client.NewHTTPClient)
  PAR_RESPONSE_MODE       query (default), form_post, or a JWT-secured mode (JARM): jwt, query.jwt,
                          form_post.jwt; the trace then shows the response JWT and its checks
  PAR_RESPONSE_KEY_FILE   private key that decrypts encrypted JARM responses (the key registered
                          with use enc): PEM, JWK/JWKS or PKCS#12 with PAR_KEY_PASSWORD
  PORT                    listen on :PORT when -addr is not given`

// ConfigFromEnv reads the PAR_* variables.
func ConfigFromEnv(getenv func(string) string) (Config, error) {
	c := Config{
		Issuer:        strings.TrimSpace(getenv("PAR_ISSUER")),
		ClientID:      getenv("PAR_CLIENT_ID"),
		ClientSecret:  getenv("PAR_CLIENT_SECRET"),
		KeyFile:       getenv("PAR_KEY_FILE"),
		KeyPassword:   getenv("PAR_KEY_PASSWORD"),
		AuthMethod:    getenv("PAR_AUTH_METHOD"),
		RedirectURL:   getenv("PAR_REDIRECT_URL"),
		PostLogoutURL: getenv("PAR_POST_LOGOUT_URL"),
		Scopes:        strings.Fields(getenv("PAR_SCOPES")),
		ProfileName:   strings.ToLower(getenv("PAR_PROFILE")),
		CAFile:        getenv("PAR_CA_FILE"),
	}
	c.ResponseKeyFile = getenv("PAR_RESPONSE_KEY_FILE")
	var err error
	if c.ResponseMode, err = responseMode(strings.TrimSpace(getenv("PAR_RESPONSE_MODE"))); err != nil {
		return c, err
	}
	p, err := parseParams(getenv("PAR_PARAMS"))
	if err != nil {
		return c, err
	}
	c.Params = p
	if _, err := c.profile(); err != nil {
		return c, err
	}
	if c.Issuer == "" {
		for _, name := range []string{"PAR_CLIENT_ID", "PAR_CLIENT_SECRET", "PAR_KEY_FILE"} {
			if getenv(name) != "" {
				return c, fmt.Errorf("webapp: %s is set but PAR_ISSUER is not: set PAR_ISSUER to use a real provider, or unset %s for the embedded one", name, name)
			}
		}
		return c, nil
	}
	if c.ClientID == "" {
		return c, errors.New("webapp: PAR_ISSUER is set but PAR_CLIENT_ID is not")
	}
	if c.ClientSecret == "" && c.KeyFile == "" && c.AuthMethod != "none" {
		return c, errors.New("webapp: set PAR_CLIENT_SECRET or PAR_KEY_FILE (or PAR_AUTH_METHOD=none for a public client)")
	}
	return c, nil
}

// parseParams parses PAR_PARAMS: URL-encoded k=v pairs joined by &. Names
// must be non-empty and appear once.
func parseParams(s string) (url.Values, error) {
	v, err := url.ParseQuery(strings.TrimSpace(s))
	if err != nil {
		return nil, fmt.Errorf("webapp: PAR_PARAMS is not k=v&k=v (URL-encoded): %w", err)
	}
	for k, vs := range v {
		if k == "" {
			return nil, errors.New("webapp: PAR_PARAMS has a parameter without a name")
		}
		if len(vs) > 1 {
			return nil, fmt.Errorf("webapp: PAR_PARAMS gives %q more than once", k)
		}
	}
	return v, nil
}

func (c Config) profile() (client.Profile, error) {
	switch c.ProfileName {
	case "", "default":
		return client.ProfileDefault, nil
	case "broker":
		return client.ProfileBroker, nil
	case "fapi2", "fapi":
		return client.ProfileFAPI2, nil
	}
	return 0, fmt.Errorf("webapp: PAR_PROFILE %q: want default, broker or fapi2", c.ProfileName)
}

// authMethod builds the client authentication from the configuration.
func (c Config) authMethod() (client.AuthMethod, error) {
	method := c.AuthMethod
	if method == "" {
		method = "client_secret_basic"
		if c.KeyFile != "" {
			method = "private_key_jwt"
		}
	}
	switch method {
	case "client_secret_basic":
		return client.ClientSecretBasic(c.ClientSecret), nil
	case "client_secret_post":
		return client.ClientSecretPost(c.ClientSecret), nil
	case "client_secret_jwt":
		return client.ClientSecretJWT(c.ClientSecret), nil
	case "none":
		return client.None(), nil
	case "private_key_jwt":
		if c.KeyFile == "" {
			return nil, errors.New("webapp: private_key_jwt needs PAR_KEY_FILE")
		}
		k, err := keys.LoadFile(c.KeyFile, c.KeyPassword)
		if err != nil {
			return nil, fmt.Errorf("webapp: PAR_KEY_FILE: %w", err)
		}
		return client.PrivateKeyJWT(k.Signer, k.KeyID), nil
	}
	return nil, fmt.Errorf("webapp: PAR_AUTH_METHOD %q: want client_secret_basic, client_secret_post, client_secret_jwt, private_key_jwt or none", method)
}

// dpopProofer returns a DPoP proofer with a fresh P-256 key, which the FAPI
// 2.0 profile needs for sender-constrained tokens (RFC 9449).
func dpopProofer() (*dpop.Proofer, error) {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	return dpop.NewProofer(k, nil)
}

// Embedded provider settings.
const (
	embeddedClientID = "6c1f4b52-8d0e-4f7a-9b21-3e5d7a9c0f18"
	embeddedPath     = "/op"
)

// newSecret returns a fresh client secret shaped like the MitID broker's:
// base64 with + / and = in it, which client_secret_basic must form-encode
// before base64 (RFC 6749 §2.3.1).
func newSecret() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return "pt+/" + base64.StdEncoding.EncodeToString(b)
}

// TestUsers are the embedded provider's Danish test identities with claims as the MitID broker
// issues them (string-typed mitid.age, NSIS level URIs, amr).
func TestUsers() []partest.User {
	return []partest.User{
		{Subject: "8a3b6a1e-54b1-4c1d-9d0e-2f6f7e3c4a11", Claims: map[string]any{
			"name": "Anders Andersen", "idp": "mitid", "identity_type": "private",
			"loa": mitid.Substantial.URI(), "ial": mitid.Substantial.URI(), "aal": mitid.Substantial.URI(),
			"amr": []string{"code_app"}, "mitid.uuid": "1f7c0a8e-3b9d-4e2a-8c61-5d4b3a2f1e0d",
			"mitid.age": "34", "mitid.date_of_birth": "1991-04-12", "mitid.has_cpr": "true",
			"mitid.identity_name": "Anders Andersen", "neb_sid": "a4f0c2d9-7e31-4b8a-9f56-1c2d3e4f5a6b",
		}},
		{Subject: "c2d9e0f1-7a3b-4c5d-8e9f-0a1b2c3d4e5f", Claims: map[string]any{
			"name": "Birgitte Sørensen", "idp": "mitid", "identity_type": "private",
			"loa": mitid.High.URI(), "ial": mitid.High.URI(), "aal": mitid.High.URI(),
			"amr": []string{"code_app", "chip"}, "mitid.uuid": "7e2d1c0b-9a8f-4e7d-b6c5-4a3b2c1d0e9f",
			"mitid.age": "58", "mitid.date_of_birth": "1967-09-03", "mitid.has_cpr": "true",
			"mitid.identity_name": "Birgitte Sørensen", "neb_sid": "b5e1d3c0-8f42-4c9b-a067-2d3e4f5a6b7c",
		}},
		{Subject: "5e6f7a8b-9c0d-4e1f-a2b3-c4d5e6f7a8b9", Claims: map[string]any{
			"name": "Mads Nielsen", "idp": "mitid", "identity_type": "private",
			"loa": mitid.Low.URI(), "ial": mitid.Low.URI(), "aal": mitid.Substantial.URI(),
			"amr": []string{"password"}, "mitid.uuid": "3c4d5e6f-7a8b-4c9d-8e0f-1a2b3c4d5e6f",
			"mitid.age": "17", "mitid.date_of_birth": "2008-01-21", "mitid.has_cpr": "false",
			"mitid.identity_name": "Mads Nielsen", "neb_sid": "c6f2e4d1-9053-4dac-b178-3e4f5a6b7c8d",
		}},
	}
}

// startEmbedded starts the partest provider for the app at base.
func startEmbedded(base string) (*partest.Server, string) {
	secret := newSecret()
	srv := partest.NewServer(partest.Config{
		IssuerPath:         embeddedPath,
		Interactive:        true,
		RequestURILifetime: 600 * time.Second, // as the MitID broker
		Users:              TestUsers(),
		Clients: []partest.Client{{
			ID:                     embeddedClientID,
			Secret:                 secret,
			RedirectURIs:           []string{base + "/auth/callback"},
			PostLogoutRedirectURIs: []string{base + "/"},
			// The provider's logouts reach the app's session Manager.
			BackchannelLogoutURI:  base + "/auth/backchannel",
			FrontchannelLogoutURI: base + "/auth/frontchannel",
		}},
	})
	return srv, secret
}

// transport is the base transport to the provider: the SDK's default one
// (client.NewHTTPClient: HTTP/2, 64 idle connections per provider), with
// PAR_CA_FILE's certificates trusted too. A bare
// &http.Transport{TLSClientConfig: …} would lose HTTP/2 and the pool.
func (c Config) transport() (http.RoundTripper, error) {
	var tc *tls.Config
	if c.CAFile != "" {
		pem, err := os.ReadFile(c.CAFile)
		if err != nil {
			return nil, fmt.Errorf("webapp: PAR_CA_FILE: %w", err)
		}
		pool, err := x509.SystemCertPool()
		if err != nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, errors.New("webapp: PAR_CA_FILE holds no PEM certificate")
		}
		tc = &tls.Config{RootCAs: pool}
	}
	return client.NewHTTPClient(tc).Transport, nil
}
