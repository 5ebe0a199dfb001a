package login

import (
	"context"
	"errors"
	"net"
	"net/http"

	"github.com/go-par/par/client"
)

// Sentinel errors of the handlers. Test for them with errors.Is; they reach
// Config.OnError wrapped in an [*Error].
var (
	// ErrMethodNotAllowed: the request used a method the endpoint refuses
	// (GET at Start without Config.AllowGETStart, for example).
	ErrMethodNotAllowed = errors.New("login: method not allowed")
	// ErrCrossOrigin: a login start or logout came from another site
	// (FAPI 2.0 Security Profile §5.3.3.1 item 12: CSRF at flow start).
	ErrCrossOrigin = errors.New("login: cross-origin request refused")
	// ErrBrowserMismatch: the callback came from a browser that did not start
	// the flow (no binding cookie for its state): a login CSRF or a callback
	// opened in another browser (RFC 9700 §4.7).
	ErrBrowserMismatch = errors.New("login: callback from a browser that did not start this flow")
	// ErrStoreFull: the memory store holds its maximum number of pending
	// flows.
	ErrStoreFull = errors.New("login: too many pending flows")
	// ErrRateLimited: a login start over Config.StartLimits, refused before
	// the push with 429 Too Many Requests and a Retry-After header (RFC 6585
	// §4).
	ErrRateLimited = errors.New("login: too many login starts")
	// ErrInvalidCookie: a flow cookie failed to decrypt or decode (tampered,
	// truncated, for another state, or sealed with a retired key). Errors
	// wrapping it also wrap ErrFlowNotFound.
	ErrInvalidCookie = errors.New("login: invalid flow cookie")
)

// Op names the handler step an [*Error] comes from.
const (
	OpStart    = "start"    // method and origin checks, push, store
	OpCallback = "callback" // parsing the response, taking the flow
	OpExchange = "exchange" // client.Exchange: iss, state, error, code, ID token
	OpLogout   = "logout"
)

// Error is every error the handlers hand to Config.OnError: the step (Op)
// and the cause. Use errors.Is / errors.As on it to reach the cause, such
// as [ErrFlowNotFound], [client.ErrStateMismatch] or
// [*client.AuthorizationError].
type Error struct {
	Op  string
	Err error
}

// Error names the operation and the cause.
func (e *Error) Error() string { return "login: " + e.Op + ": " + e.Err.Error() }

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// StatusCode is the HTTP status the default error page uses for err: 405 and
// 403 for refused starts, 429 for starts over the StartLimits, 400 for bad or replayed callbacks, 403 for
// access_denied, 502 or 503 when the provider failed, 504 when it timed out,
// 500 otherwise.
func StatusCode(err error) int {
	var ae *client.AuthorizationError
	var re *client.ResponseError
	switch {
	case errors.Is(err, ErrMethodNotAllowed):
		return http.StatusMethodNotAllowed
	case errors.Is(err, ErrCrossOrigin):
		return http.StatusForbidden
	case errors.Is(err, ErrRateLimited):
		return http.StatusTooManyRequests
	case errors.As(err, &ae):
		switch ae.Code {
		case "access_denied":
			return http.StatusForbidden
		case "temporarily_unavailable":
			return http.StatusServiceUnavailable
		case "server_error":
			return http.StatusBadGateway
		}
		return http.StatusBadRequest
	case errors.As(err, &re):
		if re.Temporary() {
			return http.StatusServiceUnavailable
		}
		return http.StatusBadGateway
	case errors.Is(err, ErrFlowNotFound), errors.Is(err, ErrBrowserMismatch),
		errors.Is(err, client.ErrStateMismatch), errors.Is(err, client.ErrIssuerMismatch),
		errors.Is(err, client.ErrMissingCode):
		return http.StatusBadRequest
	case errors.Is(err, context.DeadlineExceeded) || isTimeout(err):
		// Before isTemporary: deadline and timeout errors say Temporary too.
		return http.StatusGatewayTimeout
	case errors.Is(err, ErrStoreFull), errors.Is(err, client.ErrRequestURIExpired), isTemporary(err):
		return http.StatusServiceUnavailable
	case errors.Is(err, client.ErrInvalidIDToken), errors.Is(err, client.ErrInvalidResponse):
		var le *Error
		if errors.As(err, &le) && le.Op == OpCallback {
			return http.StatusBadRequest // a malformed callback request
		}
		return http.StatusBadGateway
	}
	return http.StatusInternalServerError
}

// Message is the text of the default error page for err ([DefaultOnError]):
// fixed wording per class, plus the provider's error code when it is a
// plain RFC 6749 code. It never holds provider descriptions or URIs
// (attacker-controllable text on the callback) nor anything secret, so an
// app's own error page can show it; log err itself for the details.
func Message(err error) string {
	var ae *client.AuthorizationError
	var re *client.ResponseError
	switch {
	case errors.Is(err, ErrMethodNotAllowed):
		return "method not allowed"
	case errors.Is(err, ErrCrossOrigin):
		var le *Error
		if errors.As(err, &le) && le.Op == OpLogout {
			return "logout must be started from this site"
		}
		return "login must be started from this site"
	case errors.Is(err, ErrRateLimited):
		return "too many logins are being started; please wait a moment and try again"
	case errors.As(err, &ae):
		if ae.Code == "access_denied" {
			return "login was cancelled or denied" + codeSuffix(ae.Code)
		}
		return "the identity provider did not complete the login" + codeSuffix(ae.Code)
	case errors.As(err, &re):
		return "the identity provider refused the request" + codeSuffix(re.Code)
	case errors.Is(err, ErrFlowNotFound), errors.Is(err, ErrBrowserMismatch):
		return "this login has expired or was already used; please start again"
	}
	switch StatusCode(err) {
	case http.StatusBadRequest:
		return "invalid login response; please start again"
	case http.StatusBadGateway:
		return "the login could not be verified"
	case http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return "the identity provider is unavailable; please try again"
	}
	return "internal error"
}

// codeSuffix formats an error code when it is a short token of letters,
// digits and _ . - (every registered OAuth error code, RFC 6749 §4.1.2.1);
// otherwise nothing. RFC 6749 allows spaces and most punctuation in a
// code, but a code from the callback is anybody's text: a sentence in it
// could be phishing on the app's page.
func codeSuffix(code string) string {
	if code == "" || len(code) > 64 {
		return ""
	}
	for _, r := range code {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '.' || r == '-') {
			return ""
		}
	}
	return " (" + code + ")"
}

// DefaultOnError writes a short text/plain error page with [StatusCode] and
// [Message]: the provider's error code at most, never a description,
// token or secret.
func DefaultOnError(w http.ResponseWriter, _ *http.Request, err error) {
	status := StatusCode(err)
	w.Header().Set("Cache-Control", "no-store")
	http.Error(w, Message(err), status)
}

// isTemporary reports whether an error in err's chain says it is temporary,
// as a Store does when its backend is down (e.g. redisstore.ErrUnavailable).
func isTemporary(err error) bool {
	var t interface{ Temporary() bool }
	return errors.As(err, &t) && t.Temporary()
}

// isTimeout reports a network timeout, such as http.Client.Timeout at the
// token endpoint, which net/http does not always wrap as
// context.DeadlineExceeded.
func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
