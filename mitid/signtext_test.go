package mitid_test

import (
	"net/url"
	"strings"
	"testing"

	"github.com/go-par/par/mitid"
)

func TestSignText(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		s    mitid.SignText
		want url.Values
	}{
		{"text", mitid.SignText{Text: "Simple document to be signed"},
			url.Values{"signtext_base64": {"U2ltcGxlIGRvY3VtZW50IHRvIGJlIHNpZ25lZA=="}, "signtext_type": {"text"}}},
		{"html", mitid.SignText{HTML: "<p>Jeg accepterer</p>"},
			url.Values{"signtext_base64": {b64("<p>Jeg accepterer</p>")}, "signtext_type": {"html"}}},
		{"pdf binary", mitid.SignText{PDF: []byte("%PDF-1.6\xe2\xe3\xcf\xd3")},
			url.Values{"signtext_base64": {b64("%PDF-1.6\xe2\xe3\xcf\xd3")}, "signtext_type": {"pdf"}}},
		{"id", mitid.SignText{ID: "pdf_ab79c129-099e-4800-826b-8c63891e68f3"},
			url.Values{"signtext_id": {"pdf_ab79c129-099e-4800-826b-8c63891e68f3"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			opts, err := tt.s.Options()
			if err != nil {
				t.Fatalf("Options() error: %v", err)
			}
			tt.want.Set("prompt", "login") // without it the broker shows no text
			if q := query(t, opts...); q.Encode() != tt.want.Encode() {
				t.Errorf("Options() = %v, want %v", q, tt.want)
			}
		})
	}
}

func TestSignTextInvalid(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		s     mitid.SignText
		param string
	}{
		{"nothing", mitid.SignText{}, "signtext_base64"},
		{"empty pdf", mitid.SignText{PDF: []byte{}}, "signtext_base64"},
		{"text not utf-8", mitid.SignText{Text: "\xff"}, "signtext_base64"},
		{"html not utf-8", mitid.SignText{HTML: "<p>\xfe</p>"}, "signtext_base64"},
		{"text and pdf", mitid.SignText{Text: "Overfør 100 kr.", PDF: []byte("%PDF")}, "signtext_type"},
		{"text and html", mitid.SignText{Text: "Overfør 100 kr.", HTML: "<p>Jeg accepterer</p>"}, "signtext_type"},
		{"id and text", mitid.SignText{ID: "pdf_ab79c129", Text: "Overfør 100 kr."}, "signtext_id"},
		{"id with space", mitid.SignText{ID: "pdf ab79c129"}, "signtext_id"},
		{"id too long", mitid.SignText{ID: strings.Repeat("x", 257)}, "signtext_id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			opts, err := tt.s.Options()
			if opts != nil {
				t.Errorf("Options() returned options with error %v", err)
			}
			wantParamError(t, err, tt.param, tt.s.ID, tt.s.Text, tt.s.HTML)
		})
	}
}
