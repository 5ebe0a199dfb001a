package bench_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-par/par/bench/internal/stub"
)

// pushShape is what a benchmark comparison must hold equal: the form
// parameters, the headers, and the header and claim names of every JWT,
// with the values that are not random.
type pushShape struct {
	Method, Path string
	Form         map[string]string // random values replaced by their length
	Headers      []string
	JWTs         map[string]jwtShape // by form parameter or header name
}

type jwtShape struct {
	Header map[string]string
	Claims map[string]string
}

// random parameters and claims: compared by length only.
var random = map[string]bool{"state": true, "nonce": true, "code_challenge": true, "jti": true}

// jwtParams are the form parameters and headers that carry a JWT.
var jwtParams = map[string]bool{"client_assertion": true, "request": true, "Dpop": true}

func shapeOf(r *http.Request) (pushShape, error) {
	s := pushShape{Method: r.Method, Path: r.URL.Path, Form: map[string]string{}, JWTs: map[string]jwtShape{}}
	for k, v := range r.PostForm {
		if len(v) != 1 {
			return s, fmt.Errorf("parameter %s given %d times", k, len(v))
		}
		s.Form[k] = v[0]
		switch {
		case random[k]:
			s.Form[k] = fmt.Sprintf("<%d random chars>", len(v[0]))
		case jwtParams[k]:
			j, err := jwtShapeOf(v[0])
			if err != nil {
				return s, fmt.Errorf("%s: %w", k, err)
			}
			s.JWTs[k] = j
			s.Form[k] = "<jwt>"
		}
	}
	for k := range r.Header {
		switch k {
		case "User-Agent", "Content-Length", "Accept-Encoding":
			continue // set by net/http alike for both
		}
		s.Headers = append(s.Headers, k+": "+r.Header.Get(k))
		if jwtParams[k] {
			j, err := jwtShapeOf(r.Header.Get(k))
			if err != nil {
				return s, fmt.Errorf("%s: %w", k, err)
			}
			s.JWTs[k] = j
			s.Headers[len(s.Headers)-1] = k + ": <jwt>"
		}
	}
	slices.Sort(s.Headers)
	return s, nil
}

func jwtShapeOf(raw string) (jwtShape, error) {
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		return jwtShape{}, fmt.Errorf("%d parts", len(parts))
	}
	var hdr, claims map[string]any
	for i, dst := range []*map[string]any{&hdr, &claims} {
		b, err := base64.RawURLEncoding.DecodeString(parts[i])
		if err != nil {
			return jwtShape{}, err
		}
		if err := json.Unmarshal(b, dst); err != nil {
			return jwtShape{}, err
		}
	}
	j := jwtShape{Header: map[string]string{}, Claims: map[string]string{}}
	for k, v := range hdr {
		j.Header[k] = fmt.Sprint(v)
		if k == "jwk" {
			m, _ := v.(map[string]any)
			j.Header[k] = fmt.Sprintf("kty=%v crv=%v", m["kty"], m["crv"])
		}
	}
	iat, _ := claims["iat"].(float64)
	if time.Since(time.Unix(int64(iat), 0)).Abs() > time.Minute {
		return jwtShape{}, fmt.Errorf("iat %v is not now", iat)
	}
	for k, v := range claims {
		switch {
		case random[k]:
			s, _ := v.(string)
			j.Claims[k] = fmt.Sprintf("<%d random chars>", len(s))
		case k == "iat" || k == "nbf" || k == "exp":
			j.Claims[k] = fmt.Sprintf("iat%+d", int64(v.(float64)-iat))
		default:
			j.Claims[k] = fmt.Sprint(v)
		}
	}
	return j, nil
}

// record starts a stub that records the shape of every push, pushes once
// with the SDK and once with the baseline, and returns both shapes and the
// stub's issuer.
func record(v variant) (sdk, base pushShape, issuer string, err error) {
	var mu sync.Mutex
	var got []pushShape
	var errs []error
	s, err := stub.StartRecording(func(r *http.Request) {
		sh, err := shapeOf(r)
		mu.Lock()
		defer mu.Unlock()
		got = append(got, sh)
		errs = append(errs, err)
	})
	if err != nil {
		return sdk, base, "", err
	}
	defer s.Close()
	c, b, err := newPushers(v, s.URL)
	if err != nil {
		return sdk, base, "", err
	}
	ctx := context.Background()
	if _, err := c.Push(ctx); err != nil {
		return sdk, base, "", err
	}
	if _, err := b.Push(ctx); err != nil {
		return sdk, base, "", err
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 2 || s.Rejected() != 0 {
		return sdk, base, "", fmt.Errorf("stub saw %d pushes, rejected %d", len(got), s.Rejected())
	}
	return got[0], got[1], s.URL, errors.Join(errs...)
}

// TestSameRequest checks that the baseline sends exactly the request the
// SDK sends, for every benchmarked variant, so the benchmarks compare like
// with like.
func TestSameRequest(t *testing.T) {
	t.Parallel()
	for _, v := range variants {
		t.Run(v.name, func(t *testing.T) {
			t.Parallel()
			sdk, base, _, err := record(v)
			if err != nil {
				t.Fatal(err)
			}
			a, _ := json.MarshalIndent(sdk, "", " ")
			b, _ := json.MarshalIndent(base, "", " ")
			if string(a) != string(b) {
				t.Errorf("requests differ\nsdk:      %s\nbaseline: %s", a, b)
			}
			if sdk.Method != http.MethodPost || sdk.Path != "/par" || sdk.Form["client_id"] != clientID {
				t.Errorf("unexpected request %s %s client_id=%q", sdk.Method, sdk.Path, sdk.Form["client_id"])
			}
			for name, j := range sdk.JWTs {
				if name != "Dpop" && j.Claims["iss"] != clientID {
					t.Errorf("%s: iss = %q", name, j.Claims["iss"])
				}
			}
		})
	}
}

// Example_sameRequest prints what the SDK and the baseline both send with
// private_key_jwt: the benchmarks compare identical requests.
func Example_sameRequest() {
	sdk, base, issuer, err := record(variants[1])
	if err != nil {
		fmt.Println(err)
		return
	}
	a, _ := json.Marshal(sdk)
	b, _ := json.Marshal(base)
	fmt.Println("identical:", string(a) == string(b))
	fmt.Println("form:", slices.Sorted(maps.Keys(sdk.Form)))
	fmt.Println("headers:", sdk.Headers)
	fmt.Println("assertion header:", sdk.JWTs["client_assertion"].Header)
	claims := fmt.Sprint(sdk.JWTs["client_assertion"].Claims)
	fmt.Println("assertion claims:", strings.ReplaceAll(claims, issuer, "ISSUER"))
	// Output:
	// identical: true
	// form: [client_assertion client_assertion_type client_id code_challenge code_challenge_method nonce redirect_uri response_type scope state]
	// headers: [Accept: application/json Content-Type: application/x-www-form-urlencoded]
	// assertion header: map[alg:ES256 kid:es-1]
	// assertion claims: map[aud:ISSUER exp:iat+60 iat:iat+0 iss:0a775a87-878c-4b83-abe3-ee29c720c3e7 jti:<22 random chars> nbf:iat+0 sub:0a775a87-878c-4b83-abe3-ee29c720c3e7]
}
