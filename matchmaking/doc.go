// Package matchmaking is the dating product's queue: a signed-in user
// spends one token to wait for a stranger in a queue keyed by region and
// preferences, and a pairing worker, safe to run on every instance, pops
// FIFO pairs and hands each to the session feature.
package matchmaking
