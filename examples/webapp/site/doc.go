// Package site is the example web app of examples/webapp (its main
// package only reads flags and the environment): importable so that tests
// can run it with other stores, as interop/browser runs two replicas
// against one Redis and one provider. It uses only the standard library and
// go-par. See examples/webapp for what it does.
package site
