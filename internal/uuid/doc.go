// Package uuid makes and checks the random (version 4) UUIDs that
// rendezvous uses as user, member and transaction ids.
package uuid
