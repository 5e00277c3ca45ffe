package api_test

import (
	"encoding/json"
	"fmt"

	"github.com/rendezvous-go/rendezvous/api"
)

func Example() {
	var doc struct {
		OpenAPI string `json:"openapi"`
		Paths   map[string]map[string]struct {
			OperationID string `json:"operationId"`
		} `json:"paths"`
	}
	if err := json.Unmarshal(api.OpenAPI(), &doc); err != nil {
		panic(err)
	}
	fmt.Println(doc.OpenAPI, doc.Paths["/rooms"]["post"].OperationID)

	var events struct {
		AsyncAPI string                     `json:"asyncapi"`
		Channels map[string]json.RawMessage `json:"channels"`
	}
	if err := json.Unmarshal(api.AsyncAPI(), &events); err != nil {
		panic(err)
	}
	fmt.Println(events.AsyncAPI, len(events.Channels), "namespaces")
	// Output:
	// 3.1.0 createRoom
	// 3.0.0 4 namespaces
}
