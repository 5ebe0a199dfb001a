package client

import (
	"github.com/go-par/par/dpop"
	"github.com/go-par/par/internal/backchannel"
)

// WithDPoP returns a copy of c that uses p as its DPoP key (RFC 9449)
// instead of Config.DPoP: its Push binds the code to p (a proof at the PAR
// endpoint, or dpop_jkt with Config.DPoPJKTOnly), its Exchange, Refresh and
// Grant send proofs of p and require DPoP-bound tokens, and the Tokens they
// return carry p (Tokens.DPoP). A nil p gives a copy without DPoP. The copy
// shares everything else with c (authentication, key set, DPoP nonces,
// HTTP client); it is as immutable and safe for concurrent use as c.
//
// It is how a login or a session gets a key of its own (package login's
// Config.DPoPPerLogin, package session): one key per session instead of one
// per Client, so a stolen token is bound to one session's key only, and
// the key can be kept, sealed, with the session on whichever replica
// serves it.
func (c *Client) WithDPoP(p *dpop.Proofer) *Client {
	cc := *c
	cc.dpop = p
	cc.bc = &backchannel.Channel{HTTPClient: c.hc, Auth: c.auth, DPoP: p, Nonces: c.nonces, Logger: c.log}
	return &cc
}

// bound returns the client to use with t: one with t's own DPoP key when
// the tokens carry another key than c's (Tokens.DPoP), else c.
func (c *Client) bound(t *Tokens) *Client {
	if t == nil || t.DPoP == nil || t.DPoP == c.dpop {
		return c
	}
	return c.WithDPoP(t.DPoP)
}
