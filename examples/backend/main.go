package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/go-par/par/client"
	"github.com/go-par/par/mitid"
	"github.com/go-par/par/partest"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr))
}

const envHelp = `Environment (all optional; without PAR_ISSUER an embedded partest provider is used):
  PAR_ISSUER               issuer, e.g. https://pp.netseidbroker.dk/op
  PAR_CLIENT_ID            client_id
  PAR_CLIENT_SECRET        client secret (client_secret_basic)
  PAR_REDIRECT_URL         registered redirect_uri (default http://<addr>/callback)
  PAR_SCOPES               space-separated scopes (default "openid")
  PAR_PROFILE              default, broker or fapi2
  PAR_CA_FILE              PEM CA certificates to trust besides the system's (client.NewHTTPClient)
  PAR_CIBA_INIT_AUTH_URL   the broker's CIBA→PAR bridge (default {issuer}/api/ciba/broker-oidc/init-auth)
  PAR_CIBA_CANCEL_URL      the broker's CIBA cancel API prefix (default {issuer}/api/v1/ciba)
  PORT                     listen on :PORT when -addr is not given`

func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	fl := flag.NewFlagSet("backend", flag.ContinueOnError)
	fl.SetOutput(stderr)
	defaultAddr := "127.0.0.1:8081"
	if p := getenv("PORT"); p != "" {
		defaultAddr = ":" + p
	}
	addr := fl.String("addr", defaultAddr, "listen address")
	fl.Usage = func() {
		fmt.Fprintf(stderr, "Usage: go run ./examples/backend [-addr host:port]\n\n"+
			"A service that starts logins from the back end: POST /logins pushes an authorization request and\n"+
			"returns {id, authorization_url, expires_at}; the user opens the URL; GET|POST /callback completes it;\n"+
			"GET /logins/{id} says pending, done (with sub) or failed. POST /ciba-logins does the same through the\n"+
			"MitID broker's CIBA→PAR bridge when the provider has a backchannel_authentication_endpoint.\n\n")
		fl.PrintDefaults()
		fmt.Fprintf(stderr, "\n%s\n", envHelp)
	}
	if err := fl.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	logger := slog.New(slog.NewTextHandler(stderr, nil))
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintf(stderr, "backend: listen: %v\n", err)
		return 1
	}
	host, port, _ := net.SplitHostPort(ln.Addr().String())
	if ip := net.ParseIP(host); ip == nil || ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	base := "http://" + net.JoinHostPort(host, port)
	svc, closeFn, err := setup(ctx, getenv, base, logger)
	if err != nil {
		ln.Close()
		fmt.Fprintln(stderr, err)
		return 1
	}
	defer closeFn()
	srv := &http.Server{Handler: svc.handler(), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	fmt.Fprintf(stdout, "READY %s\n", base)
	<-ctx.Done()
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = srv.Shutdown(sctx)
	return 0
}

// setup builds the service from the environment; without PAR_ISSUER it
// starts an embedded partest provider.
func setup(ctx context.Context, getenv func(string) string, base string, logger *slog.Logger) (*service, func(), error) {
	closeFn := func() {}
	var embedded *partest.Server
	issuer, clientID, secret := getenv("PAR_ISSUER"), getenv("PAR_CLIENT_ID"), getenv("PAR_CLIENT_SECRET")
	redirect := getenv("PAR_REDIRECT_URL")
	if redirect == "" {
		redirect = base + "/callback"
	}
	var profile client.Profile
	switch getenv("PAR_PROFILE") {
	case "", "default":
	case "broker":
		profile = client.ProfileBroker
	case "fapi2":
		profile = client.ProfileFAPI2
	default:
		return nil, nil, fmt.Errorf("backend: PAR_PROFILE %q: want default, broker or fapi2", getenv("PAR_PROFILE"))
	}
	var tlsConfig *tls.Config
	if f := getenv("PAR_CA_FILE"); f != "" { // a provider with a private CA
		pem, err := os.ReadFile(f)
		if err != nil {
			return nil, nil, fmt.Errorf("backend: PAR_CA_FILE: %w", err)
		}
		pool, err := x509.SystemCertPool()
		if err != nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, nil, errors.New("backend: PAR_CA_FILE holds no PEM certificate")
		}
		tlsConfig = &tls.Config{RootCAs: pool}
	}
	if issuer == "" {
		srv := embeddedProvider(redirect)
		closeFn, embedded = srv.Close, srv
		issuer, clientID, secret = srv.Issuer(), embeddedClientID, embeddedSecret
		logger.Info("backend: embedded partest provider", slog.String("issuer", issuer))
	} else if clientID == "" || secret == "" {
		return nil, nil, errors.New("backend: PAR_ISSUER needs PAR_CLIENT_ID and PAR_CLIENT_SECRET")
	}
	c, err := client.New(ctx, client.Config{
		Issuer:      issuer,
		ClientID:    clientID,
		Auth:        client.ClientSecretBasic(secret),
		RedirectURL: redirect,
		Scopes:      strings.Fields(getenv("PAR_SCOPES")),
		Profile:     profile,
		Logger:      logger,
		// A private CA goes into a clone of the SDK's default transport
		// (HTTP/2, connection pool), never into a bare http.Transport.
		HTTPClient: client.NewHTTPClient(tlsConfig),
	})
	if err != nil {
		closeFn()
		return nil, nil, fmt.Errorf("backend: %w", err)
	}
	var ciba *mitid.CIBA
	if c.Metadata().BackchannelAuthenticationEndpoint != "" {
		ciba, err = mitid.NewCIBA(mitid.CIBAConfig{
			Client:           c,
			InitAuthEndpoint: getenv("PAR_CIBA_INIT_AUTH_URL"),
			CancelEndpoint:   getenv("PAR_CIBA_CANCEL_URL"),
			Logger:           logger,
		})
		if err != nil {
			closeFn()
			return nil, nil, fmt.Errorf("backend: %w", err)
		}
	}
	svc := newService(c, ciba, logger, time.Now)
	svc.embedded = embedded
	return svc, func() { svc.close(); closeFn() }, nil
}

const (
	embeddedClientID = "backend-example"
	// embeddedSecret is the embedded test provider's client secret, with the
	// + / = a broker secret has. It is a test value, valid for that in-process
	// provider only.
	embeddedSecret = "backend+test/secret="
)

func embeddedProvider(redirect string) *partest.Server {
	// Shaped like the MitID broker, with CIBA and the CIBA→PAR bridge, so
	// that both POST /logins and POST /ciba-logins work out of the box.
	cfg := partest.BrokerConfig(partest.Client{ID: embeddedClientID, Secret: embeddedSecret, RedirectURIs: []string{redirect}})
	cfg.Interactive = true
	return partest.NewServer(cfg)
}
