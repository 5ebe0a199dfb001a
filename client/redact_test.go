package client_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/go-par/par/client"
)

// TestFormattingRedacts: no fmt verb and no slog handler shows a client
// secret or key held by a Client or an authentication method.
func TestFormattingRedacts(t *testing.T) {
	t.Parallel()
	const marker = "SECRET-MARKER-0123456789-abcdefghijklmnop"
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	dec := k.D.String()[:16]
	srv := secretServer(t)
	c, err := client.New(context.Background(), client.Config{Issuer: srv.Issuer(), ClientID: "app",
		Auth: client.ClientSecretPost(marker), RedirectURL: cb, HTTPClient: srv.Client()})
	if err != nil {
		t.Fatal(err)
	}
	values := map[string]any{
		"*Client":                 c,
		"ClientSecretBasic":       client.ClientSecretBasic(marker),
		"ClientSecretPost":        client.ClientSecretPost(marker),
		"ClientSecretJWT":         client.ClientSecretJWT(marker),
		"ClientSecretJWT (value)": *client.ClientSecretJWT(marker),
		"PrivateKeyJWT":           client.PrivateKeyJWT(k, "kid"),
		"PrivateKeyJWT (value)":   *client.PrivateKeyJWT(k, "kid"),
	}
	for name, v := range values {
		var out bytes.Buffer
		for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
			fmt.Fprintf(&out, verb+"\n", v)
		}
		slog.New(slog.NewJSONHandler(&out, nil)).Info("x", "v", v)
		slog.New(slog.NewTextHandler(&out, nil)).Info("x", "v", v)
		if s := out.String(); strings.Contains(s, marker) || strings.Contains(s, dec) {
			t.Errorf("%s: formatting shows a secret:\n%s", name, s)
		}
	}
}
