// Package conformance re-runs the relying-party test modules of the OpenID
// Foundation conformance suite (openid-certification/conformance-suite)
// against go-par, with a [github.com/go-par/par/partest] server playing the
// misbehaving provider of each module. It holds tests only.
//
// modules.tsv lists the modules, one row per plan, module and variant; it is
// written by ./internal/genmodules from the suite's plan files at the commit
// named in its first line. outcomes.tsv says, per module, what the provider
// does and what the suite expects of the relying party (hand-written from the
// module classes). The tests run every row that applies, check go-par's
// outcome and that it made no call after the faulty response, and print
//
//	conformance: N of M modules as the suite expects (K N/A)
//
// CONFORMANCE.md at the repository root is the same table for readers.
package conformance
