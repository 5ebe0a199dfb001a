module github.com/go-par/par/interop

go 1.25.0

require (
	github.com/go-jose/go-jose/v4 v4.1.9
	github.com/go-par/par v0.0.0-00010101000000-000000000000
	golang.org/x/oauth2 v0.36.0
)

require (
	github.com/coreos/go-oidc/v3 v3.21.0 // indirect
	golang.org/x/sync v0.22.0 // indirect
)

replace github.com/go-par/par => ../
