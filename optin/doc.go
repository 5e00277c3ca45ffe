// Package optin is the double opt-in after a call: each participant
// chooses MATCH or PASS within a window; two MATCHes make one Match, and
// anything else, including silence until the window's durable auto-pass,
// is a non-mutual outcome.
package optin
