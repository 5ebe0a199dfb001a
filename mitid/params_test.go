package mitid_test

import (
	"errors"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"github.com/go-par/par/mitid"
)

// query applies opts the way a client does and returns the parameters they
// set (without the response_type and client_id AuthCodeURL always adds).
func query(t *testing.T, opts ...oauth2.AuthCodeOption) url.Values {
	t.Helper()
	cfg := oauth2.Config{Endpoint: oauth2.Endpoint{AuthURL: "https://broker.example/op/connect/authorize"}}
	u, err := url.Parse(cfg.AuthCodeURL("", opts...))
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Del("response_type")
	q.Del("client_id")
	return q
}

// wantParamError checks that err is a *mitid.ParamError for param whose
// message does not leak any of secrets.
func wantParamError(t *testing.T, err error, param string, secrets ...string) {
	t.Helper()
	var pe *mitid.ParamError
	if !errors.As(err, &pe) {
		t.Fatalf("err = %v, want *mitid.ParamError", err)
	}
	if pe.Param != param {
		t.Errorf("ParamError.Param = %q, want %q (err: %v)", pe.Param, param, err)
	}
	if !strings.HasPrefix(err.Error(), "mitid: "+param+": ") {
		t.Errorf("err = %q, want prefix %q", err, "mitid: "+param+": ")
	}
	for _, s := range secrets {
		if s != "" && strings.Contains(err.Error(), s) {
			t.Errorf("err = %q leaks %q", err, s)
		}
	}
}

// wantPanic runs f and checks that it panics with a *mitid.ParamError for
// param.
func wantPanic(t *testing.T, param string, f func()) {
	t.Helper()
	defer func() {
		t.Helper()
		err, _ := recover().(error)
		if err == nil {
			t.Fatalf("no panic with an error, want a *ParamError for %s", param)
		}
		wantParamError(t, err, param)
	}()
	f()
}

func TestIDPValues(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		idps []mitid.IDP
		want string
	}{
		{"mitid", []mitid.IDP{mitid.MitID}, "mitid"},
		{"order kept", []mitid.IDP{mitid.MitIDErhverv, mitid.MitID}, "mitid_erhverv mitid"},
		{"undocumented passed on", []mitid.IDP{mitid.MitID, "futureid"}, "mitid futureid"},
		{"prefix is not a duplicate", []mitid.IDP{"mitid_erhverv", "mitid_erhverv2", "mitid"}, "mitid_erhverv mitid_erhverv2 mitid"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := query(t, mitid.IDPValues(tt.idps...)).Get("idp_values"); got != tt.want {
				t.Errorf("IDPValues(%v) = %q, want %q", tt.idps, got, tt.want)
			}
		})
	}
}

// TestIDPValuesPanics checks that a malformed identity provider, which can
// only come from a programming error, panics with a *ParamError.
func TestIDPValuesPanics(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		idps []mitid.IDP
	}{
		{"none", nil},
		{"empty", []mitid.IDP{""}},
		{"space inside", []mitid.IDP{"mitid mitid_erhverv"}},
		{"control", []mitid.IDP{"mitid\n"}},
		{"non-ascii", []mitid.IDP{"mitidø"}},
		{"duplicate", []mitid.IDP{mitid.MitID, mitid.MitID}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			wantPanic(t, "idp_values", func() { mitid.IDPValues(tt.idps...) })
		})
	}
}

func TestLanguage(t *testing.T) {
	t.Parallel()
	for _, l := range []mitid.LanguageCode{mitid.Danish, mitid.English, mitid.Greenlandic} {
		if got := query(t, mitid.Language(l)).Get("language"); got != string(l) {
			t.Errorf("Language(%q) sets %q", l, got)
		}
	}
	for _, l := range []mitid.LanguageCode{"", "fr", "DA", "da-DK", "en "} {
		wantPanic(t, "language", func() { mitid.Language(l) })
	}
}

func TestParamsOptions(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		params     mitid.Params
		wantJSON   string
		wantPrompt string
	}{
		{
			name:     "zero gives nothing",
			params:   mitid.Params{},
			wantJSON: "",
		},
		{
			// The broker's own example (idps/mitid.md), byte for byte.
			name:     "documented example",
			params:   mitid.Params{LoA: mitid.Substantial, ReferenceText: "Test reference text"},
			wantJSON: `{"mitid":{"loa_value":"substantial","reference_text":"VGVzdCByZWZlcmVuY2UgdGV4dA=="}}`,
		},
		{
			name:     "one field sends the mitid section",
			params:   mitid.Params{RequirePSD2: true},
			wantJSON: `{"mitid":{"require_psd2":true}}`,
		},
		{
			// app_switch_url's & stays unescaped (no \u0026).
			name: "all mitid fields",
			params: mitid.Params{
				LoA:                       mitid.High,
				ReferenceText:             "Overfør 100 kr. til 1234-5678",
				ActionText:                "APPROVE",
				UUIDHint:                  "eee4b272-6a33-40da-ab0b-5ce2abd42e78",
				CPRHint:                   "0101701234",
				RequirePSD2:               true,
				EnableStepUp:              true,
				EnableAppSwitch:           true,
				AppSwitchOS:               "ios",
				AppSwitchURL:              "https://app.example/mitid-return?x=1&y=2",
				TransferTokenExchangeCode: "38e195d6-14ad-4ed9-9f0b-d72a26c8ed95",
				TransferTokenText:         "Videre til Bank B",
			},
			wantJSON: `{"mitid":{"loa_value":"high","reference_text":"T3ZlcmbDuHIgMTAwIGtyLiB0aWwgMTIzNC01Njc4",` +
				`"action_text":"APPROVE","uuid_hint":"eee4b272-6a33-40da-ab0b-5ce2abd42e78","cpr_hint":"0101701234",` +
				`"require_psd2":true,"enable_step_up":true,"enable_app_switch":true,"app_switch_os":"ios",` +
				`"app_switch_url":"https://app.example/mitid-return?x=1&y=2",` +
				`"transfer_token_exchange_code":"38e195d6-14ad-4ed9-9f0b-d72a26c8ed95","transfer_token_text":"Videre til Bank B"}}`,
			wantPrompt: "login",
		},
		{
			name:     "aal only",
			params:   mitid.Params{AAL: mitid.Low},
			wantJSON: `{"mitid":{"aal_value":"low"}}`,
		},
		{
			name:       "step-up adds prompt=login",
			params:     mitid.Params{AAL: mitid.High, EnableStepUp: true},
			wantJSON:   `{"mitid":{"aal_value":"high","enable_step_up":true}}`,
			wantPrompt: "login",
		},
		{
			name:     "android app switch",
			params:   mitid.Params{EnableAppSwitch: true, AppSwitchOS: "android"},
			wantJSON: `{"mitid":{"enable_app_switch":true,"app_switch_os":"android"}}`,
		},
		{
			name:     "erhverv",
			params:   mitid.Params{AllowPrivate: true},
			wantJSON: `{"mitid_erhverv":{"allow_private":true}}`,
		},
		{
			name:     "both sections",
			params:   mitid.Params{ActionText: "SIGN", AllowPrivate: true},
			wantJSON: `{"mitid":{"action_text":"SIGN"},"mitid_erhverv":{"allow_private":true}}`,
		},
		{
			name:     "reference text of exactly 130 characters",
			params:   mitid.Params{ReferenceText: strings.Repeat("æ", 130)},
			wantJSON: `{"mitid":{"reference_text":"` + b64(strings.Repeat("æ", 130)) + `"}}`,
		},
		{
			// Transaction signing as recorded: the text in idp_params.mitid,
			// base64 (the recording's test vector), type text by default,
			// and prompt=login so that an existing session does not skip
			// the signing.
			name:       "transaction text",
			params:     mitid.Params{TransactionText: []byte("StubID transaction text one")},
			wantJSON:   `{"mitid":{"transaction_text":"U3R1YklEIHRyYW5zYWN0aW9uIHRleHQgb25l","transaction_text_type":"text"}}`,
			wantPrompt: "login",
		},
		{
			name:       "transaction pdf with a level",
			params:     mitid.Params{LoA: mitid.High, TransactionText: []byte("%PDF-\xff"), TransactionTextType: "pdf"},
			wantJSON:   `{"mitid":{"loa_value":"high","transaction_text":"` + b64("%PDF-\xff") + `","transaction_text_type":"pdf"}}`,
			wantPrompt: "login",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			opts, err := tt.params.Options()
			if err != nil {
				t.Fatalf("Options() error: %v", err)
			}
			if tt.wantJSON == "" {
				if len(opts) != 0 {
					t.Errorf("Options() = %d options, want none", len(opts))
				}
				return
			}
			q := query(t, opts...)
			if got := q.Get("idp_params"); got != tt.wantJSON {
				t.Errorf("idp_params = %s\nwant          %s", got, tt.wantJSON)
			}
			if got := q.Get("prompt"); got != tt.wantPrompt {
				t.Errorf("prompt = %q, want %q", got, tt.wantPrompt)
			}
			wantN := 1
			if tt.wantPrompt != "" {
				wantN++
			}
			if len(q) != wantN {
				t.Errorf("Options() set %v, want only idp_params (and prompt)", q)
			}
		})
	}
}

func b64(s string) string {
	const enc = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	// A tiny independent base64 encoder, so the test does not check the
	// code with itself.
	src := []byte(s)
	var out strings.Builder
	for len(src) > 0 {
		var b [3]byte
		n := copy(b[:], src)
		src = src[n:]
		v := uint(b[0])<<16 | uint(b[1])<<8 | uint(b[2])
		for i := 0; i < 4; i++ {
			if i > n {
				out.WriteByte('=')
				continue
			}
			out.WriteByte(enc[v>>(18-6*i)&0x3f])
		}
	}
	return out.String()
}

func TestParamsInvalid(t *testing.T) {
	t.Parallel()
	const cpr = "0101701234"
	long := strings.Repeat("a", 131)
	tests := []struct {
		name    string
		params  mitid.Params
		param   string
		secrets []string
	}{
		{"loa out of range", mitid.Params{LoA: 7}, "loa_value", nil},
		{"aal out of range", mitid.Params{AAL: -1}, "aal_value", nil},
		{"loa and aal", mitid.Params{LoA: mitid.High, AAL: mitid.Low}, "aal_value", nil},
		{"reference text too long", mitid.Params{ReferenceText: long}, "reference_text", []string{long}},
		{"reference text 131 runes", mitid.Params{ReferenceText: strings.Repeat("ø", 131)}, "reference_text", nil},
		{"reference text not utf-8", mitid.Params{ReferenceText: "a\xffb"}, "reference_text", nil},
		{"reference text control", mitid.Params{ReferenceText: "line\nbreak"}, "reference_text", []string{"line"}},
		{"action text", mitid.Params{ActionText: "log_on"}, "action_text", []string{"log_on"}},
		{"uuid hint", mitid.Params{UUIDHint: "not-a-uuid"}, "uuid_hint", []string{"not-a-uuid"}},
		{"uuid hint braces", mitid.Params{UUIDHint: "{eee4b272-6a33-40da-ab0b-5ce2abd42e7}"}, "uuid_hint", nil},
		{"cpr hint with dash", mitid.Params{CPRHint: "010170-1234"}, "cpr_hint", []string{"010170-1234", "010170"}},
		{"cpr hint short", mitid.Params{CPRHint: cpr[:9]}, "cpr_hint", []string{cpr[:9]}},
		{"step-up without level", mitid.Params{EnableStepUp: true}, "enable_step_up", nil},
		{"app switch os without enable", mitid.Params{AppSwitchOS: "android"}, "enable_app_switch", nil},
		{"app switch os", mitid.Params{EnableAppSwitch: true, AppSwitchOS: "windows"}, "app_switch_os", []string{"windows"}},
		{"app switch os case", mitid.Params{EnableAppSwitch: true, AppSwitchOS: "iOS"}, "app_switch_os", nil},
		{"app switch url http", mitid.Params{EnableAppSwitch: true, AppSwitchURL: "http://app.example/"}, "app_switch_url", nil},
		{"app switch url relative", mitid.Params{EnableAppSwitch: true, AppSwitchURL: "/return"}, "app_switch_url", nil},
		{"transfer code alone", mitid.Params{TransferTokenExchangeCode: "38e195d6"}, "transfer_token_exchange_code", []string{"38e195d6"}},
		{"transfer text alone", mitid.Params{TransferTokenText: "x"}, "transfer_token_exchange_code", nil},
		{"transfer code spaces", mitid.Params{TransferTokenExchangeCode: "a b", TransferTokenText: "x"}, "transfer_token_exchange_code", nil},
		{"transfer text too long", mitid.Params{TransferTokenExchangeCode: "c", TransferTokenText: long}, "transfer_token_text", []string{long}},
		{"erhverv section does not hide a bad mitid one", mitid.Params{AllowPrivate: true, CPRHint: "12"}, "cpr_hint", nil},
		{"transaction text type without text", mitid.Params{TransactionTextType: "text"}, "transaction_text_type", nil},
		{"transaction text type", mitid.Params{TransactionText: []byte("x"), TransactionTextType: "markdown"}, "transaction_text_type", []string{"markdown"}},
		{"transaction text not utf-8", mitid.Params{TransactionText: []byte("secret \xff text")}, "transaction_text", []string{"secret"}},
		{"transaction html not utf-8", mitid.Params{TransactionText: []byte("<b>\xff</b>"), TransactionTextType: "html"}, "transaction_text", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			opts, err := tt.params.Options()
			if opts != nil {
				t.Errorf("Options() returned options with error %v", err)
			}
			wantParamError(t, err, tt.param, tt.secrets...)
		})
	}
}
