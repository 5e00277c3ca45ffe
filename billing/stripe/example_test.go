package stripe_test

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/stripe/stripe-go/v76/webhook"

	rv "github.com/rendezvous-go/rendezvous"
	"github.com/rendezvous-go/rendezvous/billing"
	"github.com/rendezvous-go/rendezvous/billing/stripe"
)

// A webhook delivery is verified against the raw body before anything in
// it is used. Here the delivery is signed locally, as Stripe signs it.
func Example() {
	payments, err := stripe.New(stripe.Config{
		SecretKey:     "sk_test_123",
		WebhookSecret: "whsec_example",
		// APIBase: "http://127.0.0.1:12111", // stripe-mock, in tests
	})
	if err != nil {
		panic(err)
	}

	body := []byte(`{"id":"evt_1","object":"event","api_version":"2023-10-16","type":"checkout.session.completed",
		"data":{"object":{"id":"cs_test_1","object":"checkout.session","payment_status":"paid",
		"client_reference_id":"8a0f7a4e-2f7c-4d6b-9a51-0c3f1d2e4b5a","metadata":{"packId":"plus"}}}}`)
	signed := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: body, Secret: "whsec_example"})

	ev, err := payments.ParseWebhook(signed.Payload, signed.Header)
	fmt.Println(ev.Type, ev.CheckoutSessionID, ev.PackID, ev.PaymentStatus, err)

	// Changing the pack in transit breaks the signature.
	tampered := bytes.Replace(signed.Payload, []byte(`"plus"`), []byte(`"pro"`), 1)
	_, err = payments.ParseWebhook(tampered, signed.Header)
	fmt.Println(rv.CodeOf(err), errors.Is(err, billing.ErrInvalidSignature))
	// Output:
	// checkout.session.completed cs_test_1 plus paid <nil>
	// INVALID_SIGNATURE true
}
