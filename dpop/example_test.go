package dpop_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"golang.org/x/oauth2"

	"github.com/go-par/par/dpop"
)

// exampleKey is the P-256 key of RFC 7515 Appendix A.3 (a published test
// key), so that the examples print stable thumbprints.
func exampleKey() *ecdsa.PrivateKey {
	d, _ := base64.RawURLEncoding.DecodeString("jpsQnnGQmL-YBIffH1136cspYG6-0iY7X1fCE9-E9LI")
	k, err := ecdsa.ParseRawPrivateKey(elliptic.P256(), d)
	if err != nil {
		log.Fatal(err)
	}
	return k
}

func ExampleNewProofer() {
	p, err := dpop.NewProofer(exampleKey(), nil)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(p.Algorithm())
	fmt.Println("dpop_jkt:", p.Thumbprint()) // RFC 9449 §10: send with the PAR request
	fmt.Println(p)
	// Output:
	// ES256
	// dpop_jkt: oKIywvGUpTVTyxMQ3bwIIeQUudfr_CkLMjCE19ECD-U
	// dpop.Proofer(ES256, jkt=oKIywvGUpTVTyxMQ3bwIIeQUudfr_CkLMjCE19ECD-U)
}

func ExampleProofer_Proof() {
	p, err := dpop.NewProofer(exampleKey(), &dpop.Config{
		Now: func() time.Time { return time.Unix(1562262616, 0) },
	})
	if err != nil {
		log.Fatal(err)
	}
	proof, err := p.Proof("POST", "https://Server.Example.com/token?ignored=1", "eyJ7S_zG.eyJH0-Z.HX4w-7v", "")
	if err != nil {
		log.Fatal(err)
	}
	// A server verifies the proof with the key embedded in its header.
	jws, err := jose.ParseSignedCompact(proof, []jose.SignatureAlgorithm{jose.ES256})
	if err != nil {
		log.Fatal(err)
	}
	h := jws.Signatures[0].Protected
	payload, err := jws.Verify(h.JSONWebKey)
	if err != nil {
		log.Fatal(err)
	}
	var claims map[string]any
	if err := json.Unmarshal(payload, &claims); err != nil {
		log.Fatal(err)
	}
	fmt.Println("typ:", h.ExtraHeaders[jose.HeaderType], "alg:", h.Algorithm)
	fmt.Println("htm:", claims["htm"], "htu:", claims["htu"], "iat:", claims["iat"])
	fmt.Println("nonce:", claims["nonce"], "jti set:", claims["jti"] != "")
	// Output:
	// typ: dpop+jwt alg: ES256
	// htm: POST htu: https://server.example.com/token iat: 1.562262616e+09
	// nonce: eyJ7S_zG.eyJH0-Z.HX4w-7v jti set: true
}

func ExampleTransport() {
	p, err := dpop.NewProofer(exampleKey(), nil)
	if err != nil {
		log.Fatal(err)
	}
	// A resource server that demands a nonce (RFC 9449 §9).
	requests := 0
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests++
		proof := r.Header.Get("DPoP")
		jws, err := jose.ParseSignedCompact(proof, []jose.SignatureAlgorithm{jose.ES256})
		if err != nil {
			http.Error(w, "bad proof", http.StatusBadRequest)
			return
		}
		var c struct {
			Nonce string `json:"nonce"`
		}
		payload, _ := jws.Verify(jws.Signatures[0].Protected.JSONWebKey)
		_ = json.Unmarshal(payload, &c)
		if c.Nonce != "server-nonce-1" {
			w.Header().Set("DPoP-Nonce", "server-nonce-1")
			w.Header().Set("WWW-Authenticate", `DPoP error="use_dpop_nonce"`)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		fmt.Fprintf(w, "hello, %s", strings.Fields(r.Header.Get("Authorization"))[0])
	}))
	defer api.Close()

	tokens := oauth2.StaticTokenSource(&oauth2.Token{AccessToken: "bound-token", TokenType: "DPoP"})
	hc := &http.Client{Transport: &dpop.Transport{Proofer: p, Source: tokens}}
	resp, err := hc.Get(api.URL + "/me")
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	fmt.Println(resp.StatusCode, string(body), "after", requests, "requests")
	// Output:
	// 200 hello, DPoP after 2 requests
}
