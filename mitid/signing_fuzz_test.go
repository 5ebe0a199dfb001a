package mitid

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"os"
	"strings"
	"testing"
)

// FuzzSigningToken feeds parseSigningToken and checkSigned any claims set:
// no panic, errors with the mitid: prefix, and a token that checkSigned
// accepts for a text is refused for any other text — it is evidence of
// exactly one text, the one whose SHA-256 it carries.
func FuzzSigningToken(f *testing.F) {
	b, err := os.ReadFile("../testdata/mitid/transaction_token_claims.json")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b, []byte("StubID transaction text one"))
	f.Add([]byte(`{"transaction_text":"eA==","mitid.transaction_text":"eQ==","transaction_actions":"mitid.transaction_signing"}`), []byte("x"))
	f.Add([]byte(`{"transaction_text_sha256":"LXS4m8r8A9+bJjvhtXu5EeuAsvSNJbFNnNKKpQdr5IA=","transaction_actions":["mitid.transaction_signing"]}`), []byte("x"))
	f.Add([]byte(`{"transaction_client_ip":1,"requested_scope":null}`), []byte(nil))
	f.Fuzz(func(t *testing.T, payload, text []byte) {
		st, _, err := parseSigningToken(payload)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "mitid: ") {
				t.Fatalf("error without the mitid: prefix: %v", err)
			}
			return
		}
		err = checkSigned(st, text, "text")
		if err != nil {
			if !errors.Is(err, ErrTextMismatch) {
				t.Fatalf("checkSigned: %v, want ErrTextMismatch", err)
			}
			return
		}
		if len(text) == 0 {
			return
		}
		sum := sha256.Sum256(text)
		if got, _ := decodeBase64(st.TextSHA256); !bytes.Equal(got, sum[:]) || !bytes.Equal(st.Text, text) {
			t.Fatalf("accepted for a text whose digest it does not carry: sha %q", st.TextSHA256)
		}
		other := append(bytes.Clone(text), 'x')
		st2, _, _ := parseSigningToken(payload)
		if checkSigned(st2, other, "text") == nil {
			t.Fatalf("accepted for two texts")
		}
	})
}
