package valuegen

import "github.com/getkin/kin-openapi/openapi3"

// Kind is the JSON type of the values a node produces.
type Kind uint8

// Kinds. Any is a node whose values are not of one fixed type: an empty
// schema (any value is valid; Gen emits a small scalar) or a union (oneOf,
// anyOf or a 3.1 type array with several non-null types), whose branches are
// its Alt children.
const (
	Any Kind = iota
	String
	Integer
	Number
	Boolean
	Array
	Object
	Null
)

var kindNames = [...]string{Any: "any", String: "string", Integer: "integer", Number: "number", Boolean: "boolean", Array: "array", Object: "object", Null: "null"}

// String returns the JSON Schema type name ("any" for Any).
func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "kind(?)"
}

// Node is one node of a compiled schema tree. IDs are assigned in pre-order:
// the root is 0 and the descendants of node n are exactly the IDs in
// (n.ID, n.End).
type Node struct {
	// ID is the node's index in Gen.Nodes().
	ID int
	// Pointer is the JSON pointer (RFC 6901) of the value this node produces,
	// "" for the root. Array items use index 0 ("/items/0/name"); the
	// prefixItems of a 3.1 tuple use their own index. Alt nodes share their
	// union's pointer.
	Pointer string
	// Kind is the JSON type the node produces (Any for unions and empty schemas).
	Kind Kind
	// Required tells whether the property is listed in its parent object's
	// required keywords. False for the root, array items and Alt nodes.
	Required bool
	// Nullable tells whether null is a valid value here (OpenAPI 3.0
	// nullable, or "null" in a 3.1 type array).
	Nullable bool
	// Alt marks one branch of the parent union node; it shares the parent's
	// Pointer and a value takes exactly one branch.
	Alt bool
	// Schema is the schema this node's values satisfy, after allOf merging:
	// for a merged node it is a synthetic schema holding the combined
	// keywords (no allOf), otherwise the schema from the document. For a
	// union node it is the schema that holds oneOf/anyOf. Do not modify.
	Schema *openapi3.Schema
	// Parent is the parent node's ID, -1 for the root.
	Parent int
	// End is one past the last ID of this node's subtree.
	End int
}

// EditOp says what an Edit does to its node.
type EditOp uint8

// Edit operations. The zero value, EditNone, leaves the value untouched.
const (
	EditNone EditOp = iota
	// Replace emits Edit.Raw (a JSON value, or any bytes) instead of the
	// node's value. A Replace inside an optional property, an array, a
	// union branch or a nullable node forces the path to the node to be
	// emitted, so the edit always lands.
	Replace
	// Omit leaves the node out: a property is not emitted (whatever its
	// kind), an array's item node makes that array empty [], the root gives
	// no bytes at all (an empty body). Ignored on other nodes (union
	// branches). For an empty array property use Repeat with N = 0.
	Omit
	// Duplicate emits a property's key twice: first with Edit.Raw, then with
	// a valid value. Parsers that keep the last duplicate see a valid
	// value, parsers that keep the first see Raw. Ignored on nodes that are
	// not object properties.
	Duplicate
	// Extra adds the property Edit.Key: Edit.Raw after the declared
	// properties of an object node. Ignored on other nodes.
	Extra
	// Repeat emits Edit.N valid items in an array node (ignoring minItems,
	// maxItems and uniqueItems; N = 0 gives []). Ignored on other nodes.
	Repeat
)

var editOpNames = [...]string{EditNone: "none", Replace: "replace", Omit: "omit", Duplicate: "duplicate", Extra: "extra", Repeat: "repeat"}

// String returns the operation's lower-case name.
func (op EditOp) String() string {
	if int(op) < len(editOpNames) {
		return editOpNames[op]
	}
	return "editop(?)"
}

// Edit changes one node of a generated value. It is read-only during
// generation and may be shared between goroutines.
type Edit struct {
	// Node is the target node's ID.
	Node int
	// Op is what to do to it.
	Op EditOp
	// Raw is the bytes emitted by Replace, Duplicate and Extra, copied as is
	// (they are not validated or escaped: they may be invalid JSON on purpose).
	Raw []byte
	// Key is the property name added by Extra (escaped as a JSON string).
	Key string
	// N is the item count emitted by Repeat.
	N int
}
