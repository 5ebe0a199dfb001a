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
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			opt, err := mitid.IDPValues(tt.idps...)
			if err != nil {
				t.Fatalf("IDPValues(%v) error: %v", tt.idps, err)
			}
			if got := query(t, opt).Get("idp_values"); got != tt.want {
				t.Errorf("IDPValues(%v) = %q, want %q", tt.idps, got, tt.want)
			}
		})
	}
}

func TestIDPValuesInvalid(t *testing.T) {
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
			opt, err := mitid.IDPValues(tt.idps...)
			if opt != nil {
				t.Errorf("IDPValues(%q) returned an option with error %v", tt.idps, err)
			}
			wantParamError(t, err, "idp_values")
		})
	}
}

func TestLanguage(t *testing.T) {
	t.Parallel()
	for _, l := range []mitid.LanguageCode{mitid.Danish, mitid.English, mitid.Greenlandic} {
		opt, err := mitid.Language(l)
		if err != nil {
			t.Fatalf("Language(%q) error: %v", l, err)
		}
		if got := query(t, opt).Get("language"); got != string(l) {
			t.Errorf("Language(%q) sets %q", l, got)
		}
	}
	for _, l := range []mitid.LanguageCode{"", "fr", "DA", "da-DK", "en "} {
		_, err := mitid.Language(l)
		wantParamError(t, err, "language")
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
			name: "documented example",
			params: mitid.Params{MitID: &mitid.MitIDParams{
				LoA: mitid.Substantial, ReferenceText: "Test reference text",
			}},
			wantJSON: `{"mitid":{"loa_value":"substantial","reference_text":"VGVzdCByZWZlcmVuY2UgdGV4dA=="}}`,
		},
		{
			name:     "empty mitid section",
			params:   mitid.Params{MitID: &mitid.MitIDParams{}},
			wantJSON: `{"mitid":{}}`,
		},
		{
			name: "all mitid fields",
			params: mitid.Params{MitID: &mitid.MitIDParams{
				LoA:                       mitid.High,
				ReferenceText:             "Overfør 100 kr. til 1234-5678",
				ActionText:                mitid.ActionApprove,
				UUIDHint:                  "eee4b272-6a33-40da-ab0b-5ce2abd42e78",
				CPRHint:                   "0101701234",
				RequirePSD2:               true,
				EnableStepUp:              true,
				EnableAppSwitch:           true,
				AppSwitchOS:               mitid.IOS,
				AppSwitchURL:              "https://app.example/mitid-return?x=1&y=2",
				TransferTokenExchangeCode: "38e195d6-14ad-4ed9-9f0b-d72a26c8ed95",
				TransferTokenText:         "Videre til Bank B",
			}},
			wantJSON: `{"mitid":{"loa_value":"high","reference_text":"T3ZlcmbDuHIgMTAwIGtyLiB0aWwgMTIzNC01Njc4",` +
				`"action_text":"APPROVE","uuid_hint":"eee4b272-6a33-40da-ab0b-5ce2abd42e78","cpr_hint":"0101701234",` +
				`"require_psd2":true,"enable_step_up":true,"enable_app_switch":true,"app_switch_os":"ios",` +
				`"app_switch_url":"https://app.example/mitid-return?x=1&y=2",` +
				`"transfer_token_exchange_code":"38e195d6-14ad-4ed9-9f0b-d72a26c8ed95","transfer_token_text":"Videre til Bank B"}}`,
			wantPrompt: "login",
		},
		{
			name:     "aal only",
			params:   mitid.Params{MitID: &mitid.MitIDParams{AAL: mitid.Low}},
			wantJSON: `{"mitid":{"aal_value":"low"}}`,
		},
		{
			name:       "step-up adds prompt=login",
			params:     mitid.Params{MitID: &mitid.MitIDParams{AAL: mitid.High, EnableStepUp: true}},
			wantJSON:   `{"mitid":{"aal_value":"high","enable_step_up":true}}`,
			wantPrompt: "login",
		},
		{
			name:     "erhverv",
			params:   mitid.Params{MitIDErhverv: &mitid.MitIDErhvervParams{AllowPrivate: true}},
			wantJSON: `{"mitid_erhverv":{"allow_private":true}}`,
		},
		{
			name: "both sections",
			params: mitid.Params{
				MitID:        &mitid.MitIDParams{ActionText: mitid.ActionSign},
				MitIDErhverv: &mitid.MitIDErhvervParams{},
			},
			wantJSON: `{"mitid":{"action_text":"SIGN"},"mitid_erhverv":{}}`,
		},
		{
			name:     "reference text of exactly 130 characters",
			params:   mitid.Params{MitID: &mitid.MitIDParams{ReferenceText: strings.Repeat("æ", 130)}},
			wantJSON: `{"mitid":{"reference_text":"` + b64(strings.Repeat("æ", 130)) + `"}}`,
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
			b, err := tt.params.JSON()
			if err != nil || string(b) != tt.wantJSON {
				t.Errorf("JSON() = %s, %v; want %s", b, err, tt.wantJSON)
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
		params  mitid.MitIDParams
		param   string
		secrets []string
	}{
		{"loa out of range", mitid.MitIDParams{LoA: 7}, "loa_value", nil},
		{"aal out of range", mitid.MitIDParams{AAL: -1}, "aal_value", nil},
		{"loa and aal", mitid.MitIDParams{LoA: mitid.High, AAL: mitid.Low}, "aal_value", nil},
		{"reference text too long", mitid.MitIDParams{ReferenceText: long}, "reference_text", []string{long}},
		{"reference text 131 runes", mitid.MitIDParams{ReferenceText: strings.Repeat("ø", 131)}, "reference_text", nil},
		{"reference text not utf-8", mitid.MitIDParams{ReferenceText: "a\xffb"}, "reference_text", nil},
		{"reference text control", mitid.MitIDParams{ReferenceText: "line\nbreak"}, "reference_text", []string{"line"}},
		{"action text", mitid.MitIDParams{ActionText: "log_on"}, "action_text", nil},
		{"uuid hint", mitid.MitIDParams{UUIDHint: "not-a-uuid"}, "uuid_hint", []string{"not-a-uuid"}},
		{"uuid hint braces", mitid.MitIDParams{UUIDHint: "{eee4b272-6a33-40da-ab0b-5ce2abd42e7}"}, "uuid_hint", nil},
		{"cpr hint with dash", mitid.MitIDParams{CPRHint: "010170-1234"}, "cpr_hint", []string{"010170-1234", "010170"}},
		{"cpr hint short", mitid.MitIDParams{CPRHint: cpr[:9]}, "cpr_hint", []string{cpr[:9]}},
		{"step-up without level", mitid.MitIDParams{EnableStepUp: true}, "enable_step_up", nil},
		{"app switch os without enable", mitid.MitIDParams{AppSwitchOS: mitid.Android}, "enable_app_switch", nil},
		{"app switch os", mitid.MitIDParams{EnableAppSwitch: true, AppSwitchOS: "windows"}, "app_switch_os", nil},
		{"app switch url http", mitid.MitIDParams{EnableAppSwitch: true, AppSwitchURL: "http://app.example/"}, "app_switch_url", nil},
		{"app switch url relative", mitid.MitIDParams{EnableAppSwitch: true, AppSwitchURL: "/return"}, "app_switch_url", nil},
		{"transfer code alone", mitid.MitIDParams{TransferTokenExchangeCode: "38e195d6"}, "transfer_token_exchange_code", []string{"38e195d6"}},
		{"transfer text alone", mitid.MitIDParams{TransferTokenText: "x"}, "transfer_token_exchange_code", nil},
		{"transfer code spaces", mitid.MitIDParams{TransferTokenExchangeCode: "a b", TransferTokenText: "x"}, "transfer_token_exchange_code", nil},
		{"transfer text too long", mitid.MitIDParams{TransferTokenExchangeCode: "c", TransferTokenText: long}, "transfer_token_text", []string{long}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := mitid.Params{MitID: &tt.params}
			opts, err := p.Options()
			if opts != nil {
				t.Errorf("Options() returned options with error %v", err)
			}
			wantParamError(t, err, tt.param, tt.secrets...)
			if err := p.Validate(); err == nil {
				t.Error("Validate() = nil, want error")
			}
			if _, err := p.JSON(); err == nil {
				t.Error("JSON() error = nil, want error")
			}
		})
	}
}

func TestFrontChannelOptionsRefusesCPRHint(t *testing.T) {
	t.Parallel()
	const cpr = "0101701234"
	p := mitid.Params{MitID: &mitid.MitIDParams{CPRHint: cpr}}
	if _, err := p.Options(); err != nil {
		t.Fatalf("Options() with cpr_hint (pushed) error: %v", err)
	}
	_, err := p.FrontChannelOptions()
	if !errors.Is(err, mitid.ErrCPRHintFrontChannel) {
		t.Fatalf("FrontChannelOptions() error = %v, want ErrCPRHintFrontChannel", err)
	}
	wantParamError(t, err, "cpr_hint", cpr)

	p = mitid.Params{MitID: &mitid.MitIDParams{UUIDHint: "eee4b272-6a33-40da-ab0b-5ce2abd42e78"}}
	opts, err := p.FrontChannelOptions()
	if err != nil {
		t.Fatalf("FrontChannelOptions() without cpr_hint error: %v", err)
	}
	if got := query(t, opts...).Get("idp_params"); got != `{"mitid":{"uuid_hint":"eee4b272-6a33-40da-ab0b-5ce2abd42e78"}}` {
		t.Errorf("FrontChannelOptions() idp_params = %s", got)
	}
}

func TestSignText(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		typ     mitid.SignTextType
		content []byte
		want    string
	}{
		{"text", mitid.SignTextPlain, []byte("Simple document to be signed"), "U2ltcGxlIGRvY3VtZW50IHRvIGJlIHNpZ25lZA=="},
		{"html", mitid.SignTextHTML, []byte("<p>Jeg accepterer</p>"), b64("<p>Jeg accepterer</p>")},
		{"pdf binary", mitid.SignTextPDF, []byte("%PDF-1.6\xe2\xe3\xcf\xd3"), b64("%PDF-1.6\xe2\xe3\xcf\xd3")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			opts, err := mitid.SignText(tt.typ, tt.content)
			if err != nil {
				t.Fatalf("SignText error: %v", err)
			}
			q := query(t, opts...)
			want := url.Values{"signtext_base64": {tt.want}, "signtext_type": {string(tt.typ)}, "prompt": {"login"}}
			if q.Encode() != want.Encode() {
				t.Errorf("SignText(%q) = %v, want %v", tt.typ, q, want)
			}
		})
	}
}

func TestSignTextInvalid(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		typ     mitid.SignTextType
		content []byte
		param   string
	}{
		{"no type", "", []byte("x"), "signtext_type"},
		{"unknown type", "docx", []byte("x"), "signtext_type"},
		{"empty", mitid.SignTextPDF, nil, "signtext_base64"},
		{"text not utf-8", mitid.SignTextPlain, []byte{0xff}, "signtext_base64"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := mitid.SignText(tt.typ, tt.content)
			wantParamError(t, err, tt.param)
		})
	}
}

func TestSignTextID(t *testing.T) {
	t.Parallel()
	const id = "pdf_ab79c129-099e-4800-826b-8c63891e68f3"
	opts, err := mitid.SignTextID(id)
	if err != nil {
		t.Fatal(err)
	}
	q := query(t, opts...)
	if q.Get("signtext_id") != id || q.Get("prompt") != "login" || len(q) != 2 {
		t.Errorf("SignTextID = %v", q)
	}
	for _, bad := range []string{"", "a b", strings.Repeat("x", 257)} {
		_, err := mitid.SignTextID(bad)
		wantParamError(t, err, "signtext_id")
	}
}

func TestSimulation(t *testing.T) {
	t.Parallel()
	const u1, u2 = "8314ab25-bf71-49ff-aee6-15e7d084cec1", "761b37f4-4315-4ae7-a9d6-f1f5d8663423"
	tests := []struct {
		name string
		s    mitid.SimulationParams
		want string
	}{
		{"ui", mitid.SimulationParams{Mode: mitid.SimulationUI}, "ui"},
		{"ui uuid", mitid.SimulationParams{Mode: mitid.SimulationUI, UUID: u1}, "ui uuid:" + u1},
		{"no-ui all", mitid.SimulationParams{Mode: mitid.SimulationNoUI, UUID: u1, CPR: "0902322779", MitIDErhvervUUID: u2},
			"no-ui uuid:" + u1 + " cpr:0902322779 mitid_erhverv_uuid:" + u2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			opt, err := mitid.Simulation(tt.s)
			if err != nil {
				t.Fatal(err)
			}
			if got := query(t, opt).Get("simulation"); got != tt.want {
				t.Errorf("Simulation = %q, want %q", got, tt.want)
			}
		})
	}
	for _, bad := range []mitid.SimulationParams{
		{},
		{Mode: "UI"},
		{Mode: mitid.SimulationUI, UUID: "x"},
		{Mode: mitid.SimulationUI, CPR: "123"},
		{Mode: mitid.SimulationUI, MitIDErhvervUUID: u1 + "0"},
	} {
		_, err := mitid.Simulation(bad)
		wantParamError(t, err, "simulation")
	}
}
