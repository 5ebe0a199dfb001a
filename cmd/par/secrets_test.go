package main

import (
	"context"
	"flag"
	"strings"
	"testing"
)

// TestHelpHidesSecrets: the flag package prints every non-empty default in
// --help, and push and login take their defaults from the environment, so a
// careful user who keeps the client secret and the PKCS#12 password in
// PAR_CLIENT_SECRET / PAR_KEY_PASSWORD must not see them in help or error
// output (which ends up in CI logs).
func TestHelpHidesSecrets(t *testing.T) {
	t.Parallel()
	const (
		secretMarker   = "SECRET-MARKER-d8f1c0a2e5"
		passwordMarker = "PASSWORD-MARKER-7b3e9f41"
	)
	env := map[string]string{"PAR_CLIENT_SECRET": secretMarker, "PAR_KEY_PASSWORD": passwordMarker,
		"PAR_ISSUER": "https://op.example", "PAR_CLIENT_ID": "x", "PAR_REDIRECT_URL": "http://127.0.0.1:1/cb"}
	tests := [][]string{
		{"--help"},
		{"push", "--help"},
		{"push", "-h"},
		{"login", "--help"},
		{"--json", "login", "--help"},
		{"push", "--bogus"},
		{"login", "--timeout", "zz"},
		{"push", "--secret"},
		{"push", "--auth-method", "private_key_jwt"},
		{"push", "--key", "../../testdata/keys/oces3-test.p12"}, // PAR_KEY_PASSWORD is the wrong password
		{"push", "--key", "../../testdata/keys/oces3-test.p12", "--key-password", passwordMarker},
		{"--json", "push", "--key", "../../testdata/keys/oces3-test.p12"},
		{"push", "--redirect-uri", "%zz", "--auth-method", "bogus"},
	}
	for _, args := range tests {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			t.Parallel()
			c, out, errOut := newCLI(env)
			code := c.run(context.Background(), args)
			all := out.String() + errOut.String()
			if all == "" {
				t.Fatalf("exit %d and no output: the case shows nothing", code)
			}
			for _, m := range []string{secretMarker, passwordMarker} {
				if strings.Contains(all, m) {
					t.Errorf("exit %d: output shows a secret (%s):\n%s", code, m, all)
				}
			}
		})
	}
	// The help still says where the secrets come from.
	c, out, _ := newCLI(env)
	c.run(context.Background(), []string{"push", "--help"})
	for _, want := range []string{"-secret secret", "env PAR_CLIENT_SECRET", "-key-password password", "env PAR_KEY_PASSWORD"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("push --help lacks %q:\n%s", want, out)
		}
	}
}

// TestSecretFlagsUseSecretValue: every flag of push and login that takes a
// secret (by name: secret, password, passphrase, token) is a secretValue,
// which never prints its value; a new secret flag declared with
// fs.String would fail here.
func TestSecretFlagsUseSecretValue(t *testing.T) {
	t.Parallel()
	c, _, _ := newCLI(map[string]string{"PAR_CLIENT_SECRET": "x", "PAR_KEY_PASSWORD": "y"})
	fs, _ := c.flagSet("push", "", "")
	c.addClientFlags(fs, "")
	n := 0
	fs.VisitAll(func(f *flag.Flag) {
		name := strings.ToLower(f.Name)
		if !strings.Contains(name, "secret") && !strings.Contains(name, "password") &&
			!strings.Contains(name, "passphrase") && !strings.Contains(name, "token") {
			return
		}
		n++
		if _, ok := f.Value.(secretValue); !ok {
			t.Errorf("flag -%s is a %T, want secretValue", f.Name, f.Value)
		}
		if f.DefValue != "" || f.Value.String() != "" {
			t.Errorf("flag -%s shows a value: default %q, value %q", f.Name, f.DefValue, f.Value.String())
		}
	})
	if n < 2 {
		t.Errorf("found %d secret flags, want at least -secret and -key-password", n)
	}
}

// TestSecretFlagsTakeTheEnvironment: the environment still supplies the
// secrets when the flags are not given, and a flag wins over it.
func TestSecretFlagsTakeTheEnvironment(t *testing.T) {
	t.Parallel()
	c, _, _ := newCLI(map[string]string{"PAR_CLIENT_SECRET": "from-env", "PAR_KEY_PASSWORD": "pw-env"})
	fs, _ := c.flagSet("push", "", "")
	f := c.addClientFlags(fs, "")
	if err := fs.Parse(nil); err != nil {
		t.Fatal(err)
	}
	if f.secret != "from-env" || f.keyPassword != "pw-env" {
		t.Errorf("from the environment: secret %q, key password %q", f.secret, f.keyPassword)
	}
	fs, _ = c.flagSet("push", "", "")
	f = c.addClientFlags(fs, "")
	if err := fs.Parse([]string{"--secret", "from-flag", "--key-password=pw-flag"}); err != nil {
		t.Fatal(err)
	}
	if f.secret != "from-flag" || f.keyPassword != "pw-flag" {
		t.Errorf("from the flags: secret %q, key password %q", f.secret, f.keyPassword)
	}
}
