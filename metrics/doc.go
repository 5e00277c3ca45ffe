// Package metrics holds the Prometheus collectors of rendezvous, on a
// registry of their own so that a host application can serve them alone or
// merge them with its own (prometheus.Gatherers).
//
// New returns a Registry; give it to transport.Config.Metrics for the HTTP
// and Socket.IO families, and connect the features' hooks to its Observe
// methods (matchmaking.Config.OnTick, session.Config.OnLiveChange,
// rendezvous.SchedulerConfig.OnClaim, and a Broker wrapper calling
// ObservePublish), as examples/server does. Handler serves GET /metrics.
//
// Every family is named rendezvous_*, and every label has a bounded set of
// values: HTTP routes are the ServeMux patterns (never raw paths), event
// names are those with a handler or "other", codes are the module's error
// codes.
//
// A nil *Registry is valid: every method does nothing, so code holding one
// never checks.
package metrics
