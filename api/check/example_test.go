package check_test

import (
	"fmt"
	"os"

	"github.com/pb33f/libopenapi"
)

func Example() {
	spec, err := os.ReadFile("../openapi.json")
	if err != nil {
		panic(err)
	}
	doc, err := libopenapi.NewDocument(spec)
	if err != nil {
		panic(err)
	}
	model, err := doc.BuildV3Model()
	if err != nil {
		panic(err)
	}
	rooms := model.Model.Paths.PathItems.GetOrZero("/rooms")
	fmt.Println(doc.GetSpecInfo().Version, rooms.Post.OperationId)
	// Output:
	// 3.1.0 createRoom
}
