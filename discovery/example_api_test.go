package discovery_test

import (
	"bytes"
	"fmt"
	"os"

	"github.com/go-par/par/discovery"
)

// Raw keeps the document exactly as the provider sent it, e.g. to log or
// store it; each call returns a fresh copy.
func ExampleMetadata_Raw() {
	doc, err := os.ReadFile("../testdata/discovery/broker-pp.json")
	if err != nil {
		fmt.Println(err)
		return
	}
	md, err := discovery.Parse(doc, "https://pp.netseidbroker.dk/op")
	if err != nil {
		fmt.Println(err)
		return
	}
	raw := md.Raw()
	fmt.Println(bytes.Equal(raw, doc))
	raw[0] = 'X' // a copy: the Metadata keeps its own
	fmt.Println(bytes.Equal(md.Raw(), doc))
	fmt.Println((&discovery.Metadata{}).Raw() == nil) // not made by Parse
	// Output:
	// true
	// true
	// true
}
