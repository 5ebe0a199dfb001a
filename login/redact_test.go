package login_test

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/go-par/par/login"
)

// TestCookieConfigRedacts: no fmt verb and no slog handler shows the
// cookie keys, also inside a login.Config.
func TestCookieConfigRedacts(t *testing.T) {
	t.Parallel()
	key := bytes.Repeat([]byte{0xA7}, 32)
	cc := login.CookieConfig{Keys: [][]byte{key}, Name: "par"}
	leaks := []string{fmt.Sprint(key)[1:40], fmt.Sprintf("%x", key)[:16], fmt.Sprintf("%#v", key)[8:40],
		base64.StdEncoding.EncodeToString(key)[:16]}
	for name, v := range map[string]any{"CookieConfig": cc, "*CookieConfig": &cc, "Config": login.Config{Cookie: cc}} {
		var out bytes.Buffer
		for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
			fmt.Fprintf(&out, verb+"\n", v)
		}
		slog.New(slog.NewJSONHandler(&out, nil)).Info("x", "v", v)
		slog.New(slog.NewTextHandler(&out, nil)).Info("x", "v", v)
		for _, l := range leaks {
			if strings.Contains(out.String(), l) {
				t.Errorf("%s: formatting shows the key (%q):\n%s", name, l, out.String())
				break
			}
		}
		if !strings.Contains(out.String(), "1 redacted") {
			t.Errorf("%s: no redaction note:\n%s", name, out.String())
		}
	}
}
