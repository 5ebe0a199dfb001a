package opharness_test

import (
	"fmt"

	"github.com/go-par/par/interop/internal/opharness"
)

func ExampleParseFormPost() {
	page := `<form method="post" action="http://127.0.0.1:9/cb">
  <input type="hidden" name="code" value="c0de"/>
  <input type="hidden" name="state" value="a&amp;b"/>
</form>`
	action, params, err := opharness.ParseFormPost([]byte(page))
	if err != nil {
		panic(err)
	}
	fmt.Println(action)
	fmt.Println(params.Get("code"), params.Get("state"))
	// Output:
	// http://127.0.0.1:9/cb
	// c0de a&b
}
