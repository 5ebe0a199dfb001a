package mitid

import (
	"errors"

	"github.com/go-par/par/client"
)

// Outcome is how a login the broker ended without a code ended, in the
// groups of the broker's error-code catalogue (GET
// {issuer}/api/v1/documentation/errorcodes): the broker sends error
// (access_denied, login_required, …) with one of its codes as
// error_description (RFC 6749 §4.1.2.1), such as mitid_user_aborted when
// the user cancelled. Each group asks the app for a different answer; see
// [Outcome.Message].
type Outcome int

// The outcomes. The catalogue's codes fall into the groups Cancelled to
// Technical; an error response with a code outside the catalogue (or
// none) is Unknown, a generic denial.
const (
	// OutcomeNone: the error is not the provider ending the login (nil, a
	// network failure, a failed security check): show your own failure
	// page.
	OutcomeNone Outcome = iota
	// OutcomeCancelled: the user chose to stop (mitid_user_aborted,
	// declined_user_consent, …). Not a failure: offer to start again.
	OutcomeCancelled
	// OutcomeNavigation: the browser lost track of the login (back button,
	// reload, blocked or time-skewed cookies): starting again helps.
	OutcomeNavigation
	// OutcomeBadRequest: the broker refused what the app asked for
	// (invalid_idp_params, mitid_uuid_hint_malformed, …): a bug in the app.
	OutcomeBadRequest
	// OutcomeIdentity: the login gave no identity the request allows (CPR
	// match failed, no such identity, no MitID Erhverv identities, consent
	// missing).
	OutcomeIdentity
	// OutcomeTechnical: the broker or MitID failed (internal_error,
	// mitid_timeout, …), or the error is server_error or
	// temporarily_unavailable (RFC 6749 §4.1.2.1): try again later.
	OutcomeTechnical
	// OutcomeUnknown: the provider denied or ended the login with a code
	// outside the catalogue.
	OutcomeUnknown
)

// brokerCodes is the broker's error-code catalogue as recorded in 2026,
// by group.
var brokerCodes = map[string]Outcome{
	// The user chose to stop.
	"mitid_user_aborted":                 OutcomeCancelled,
	"mitid_core_client_error_user_abort": OutcomeCancelled,
	"mitid_erhverv_user_aborted":         OutcomeCancelled,
	"private_to_business_user_aborted":   OutcomeCancelled,
	"privilege_cvr_select_user_aborted":  OutcomeCancelled,
	"user_aborted":                       OutcomeCancelled,
	"workflow_signing_aborted":           OutcomeCancelled,
	"declined_user_consent":              OutcomeCancelled,

	// Browser navigation or cookies: starting again helps.
	"user_navigation_error":                    OutcomeNavigation,
	"user_navigation_error_empty_state":        OutcomeNavigation,
	"mitid_user_navigation_error_empty_state":  OutcomeNavigation,
	"mitid_erhverv_unexpected_user_navigation": OutcomeNavigation,
	"mitid_anti_forgery_validation_error":      OutcomeNavigation,
	"mitid_auth_code_already_used":             OutcomeNavigation,
	"user_is_missing_cookies":                  OutcomeNavigation,
	"user_missing_timed_cookies":               OutcomeNavigation,
	"idp_correlation_failure":                  OutcomeNavigation,
	"no_ctx":                                   OutcomeNavigation,
	"mitid_no_ctx":                             OutcomeNavigation,
	"oidc_correlation_continue_failed":         OutcomeNavigation,
	"mitid_browser_not_supported":              OutcomeNavigation,

	// The request was wrong: a bug in the app.
	"invalid_idp_params":                     OutcomeBadRequest,
	"invalid_idp_configuration_or_parameter": OutcomeBadRequest,
	"no_ctx_idp_params":                      OutcomeBadRequest,
	"mitid_uuid_hint_malformed":              OutcomeBadRequest,
	"invalid_consent_id":                     OutcomeBadRequest,
	"invalid_tin":                            OutcomeBadRequest,
	"mitid_simulation_error_parameter":       OutcomeBadRequest,
	"mitid_simulation_unknown_user":          OutcomeBadRequest,

	// Identity outcomes.
	"mitid_cpr_match_failed":        OutcomeIdentity,
	"mitid_identity_not_found":      OutcomeIdentity,
	"mitid_erhverv.no_identities":   OutcomeIdentity,
	"missing_user_in_session":       OutcomeIdentity,
	"invalid_user_for_user_consent": OutcomeIdentity,
	"missing_user_consent":          OutcomeIdentity,

	// Technical: try again later.
	"internal_error":                                  OutcomeTechnical,
	"idp_remote_error":                                OutcomeTechnical,
	"idp_no_ctx":                                      OutcomeTechnical,
	"mitid_core_client_error":                         OutcomeTechnical,
	"mitid_internal_error":                            OutcomeTechnical,
	"mitid_timeout":                                   OutcomeTechnical,
	"mitid_unexpected_error":                          OutcomeTechnical,
	"mitid_erhverv_api_error":                         OutcomeTechnical,
	"mitid_transaction_signing_failed":                OutcomeTechnical,
	"transaction_signing_hash_mismatch":               OutcomeTechnical,
	"transaction_signing_lokal_idp_correlation_error": OutcomeTechnical,
	"mitid_invalid_transfer_token_code":               OutcomeTechnical,
	"mitid_transfer_token_exchange_code_already_used": OutcomeTechnical,
}

// OutcomeOf classifies err: a *client.AuthorizationError (the callback's
// error response, found with errors.As also when it is joined with
// client.ErrIssuerMismatch, as for the broker's cancel without iss outside
// client.ProfileBroker), or the access_denied of a backend-initiated flow
// ([ErrAccessDenied], a *client.ResponseError with code access_denied, CIBA
// Core §11). The broker's code is read from error_description; a code
// outside the catalogue gives OutcomeUnknown (or OutcomeTechnical for
// server_error and temporarily_unavailable). Anything else, nil included,
// is OutcomeNone.
func OutcomeOf(err error) Outcome {
	var ae *client.AuthorizationError
	if errors.As(err, &ae) {
		return classify(ae.Code, ae.Description)
	}
	var re *client.ResponseError
	if errors.As(err, &re) && (re.Code == "access_denied" || errors.Is(err, ErrAccessDenied)) {
		return classify(re.Code, re.Description)
	}
	if errors.Is(err, ErrAccessDenied) {
		return OutcomeUnknown
	}
	return OutcomeNone
}

// UserCancelled reports whether err says the user chose to stop the login
// ([OutcomeCancelled]), e.g. access_denied with mitid_user_aborted.
func UserCancelled(err error) bool { return OutcomeOf(err) == OutcomeCancelled }

func classify(code, description string) Outcome {
	if o, ok := brokerCodes[description]; ok {
		return o
	}
	if code == "server_error" || code == "temporarily_unavailable" {
		return OutcomeTechnical
	}
	return OutcomeUnknown
}

// String is the outcome's name for logs: "cancelled", "navigation",
// "bad_request", "identity", "technical", "unknown" or "none".
func (o Outcome) String() string {
	switch o {
	case OutcomeCancelled:
		return "cancelled"
	case OutcomeNavigation:
		return "navigation"
	case OutcomeBadRequest:
		return "bad_request"
	case OutcomeIdentity:
		return "identity"
	case OutcomeTechnical:
		return "technical"
	case OutcomeUnknown:
		return "unknown"
	}
	return "none"
}

// Message is a sentence for the user about the outcome, fixed per group:
// never the provider's text, which anybody can write into a callback URL.
// OutcomeNone has none ("").
func (o Outcome) Message() string {
	switch o {
	case OutcomeCancelled:
		return "You cancelled the login."
	case OutcomeNavigation:
		return "Your browser lost track of the login (the back button, a reload or blocked cookies); please start again."
	case OutcomeBadRequest:
		return "The login could not start because this service sent an invalid request; please try again later."
	case OutcomeIdentity:
		return "The login did not give an identity this service can accept."
	case OutcomeTechnical:
		return "MitID or the login broker had a technical problem; please try again later."
	case OutcomeUnknown:
		return "The login was denied or did not complete."
	}
	return ""
}
