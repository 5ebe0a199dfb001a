module github.com/go-par/par/interop

go 1.25.0

require github.com/go-jose/go-jose/v4 v4.1.9

replace github.com/go-par/par => ../
