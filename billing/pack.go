package billing

import (
	"errors"
	"fmt"
	"strings"
)

// The ids of the packs of DefaultPacks.
const (
	PackStarter = "starter"
	PackPlus    = "plus"
	PackPro     = "pro"
)

// Pack is a number of tokens sold in one Checkout Session. A pack is
// purchasable when it has a PriceID (a Stripe Price, whose amount and
// currency Stripe knows) or an Amount and a Currency (the line item is
// then created with inline price data). Amount and Currency may be set
// next to a PriceID, to show the price to clients; the PriceID is what
// Stripe charges then.
type Pack struct {
	// ID names the pack in purchases and in the Checkout Session's
	// metadata ("packId"): "starter", "plus", "pro".
	ID string `json:"id"`
	// Tokens is the number of tokens a paid purchase credits; always
	// positive.
	Tokens int `json:"tokens"`
	// PriceID is the id of a Stripe Price (price_…). It is not shown to
	// clients.
	PriceID string `json:"-"`
	// Amount is the price in the currency's minor unit (cents), when no
	// PriceID is set or for display.
	Amount int64 `json:"amount,omitempty"`
	// Currency is the lower-case ISO 4217 code of Amount, such as "usd".
	Currency string `json:"currency,omitempty"`
}

// Purchasable reports whether the pack can be bought: it has a PriceID,
// or an Amount and a Currency.
func (p Pack) Purchasable() bool {
	return p.PriceID != "" || (p.Amount > 0 && p.Currency != "")
}

// DefaultPacks returns the packs starter (5 tokens), plus (15) and pro
// (30), without prices: set each pack's PriceID, or its Amount and
// Currency, before purchases work. A host application typically sets the
// price ids from its environment:
//
//	packs := billing.DefaultPacks()
//	for i := range packs {
//		packs[i].PriceID = os.Getenv("STRIPE_PRICE_" + strings.ToUpper(packs[i].ID))
//	}
func DefaultPacks() []Pack {
	return []Pack{
		{ID: PackStarter, Tokens: 5},
		{ID: PackPlus, Tokens: 15},
		{ID: PackPro, Tokens: 30},
	}
}

// maxPackIDLength bounds pack ids: Stripe metadata values are limited to
// 500 characters, and ids travel in URLs and logs.
const maxPackIDLength = 64

// checkPacks validates packs and returns a copy with normalised
// currencies.
func checkPacks(packs []Pack) ([]Pack, error) {
	if len(packs) == 0 {
		return nil, errors.New("billing: Config.Packs must not be empty")
	}
	out := make([]Pack, len(packs))
	seen := make(map[string]bool, len(packs))
	for i, p := range packs {
		switch {
		case p.ID == "" || len(p.ID) > maxPackIDLength || strings.TrimSpace(p.ID) != p.ID:
			return nil, fmt.Errorf("billing: pack %d: the id must be 1 to %d characters without surrounding spaces", i, maxPackIDLength)
		case seen[p.ID]:
			return nil, fmt.Errorf("billing: pack %q is configured twice", p.ID)
		case p.Tokens <= 0:
			return nil, fmt.Errorf("billing: pack %q: Tokens must be positive", p.ID)
		case p.Amount < 0:
			return nil, fmt.Errorf("billing: pack %q: Amount must not be negative", p.ID)
		case (p.Amount > 0) != (p.Currency != ""):
			return nil, fmt.Errorf("billing: pack %q: Amount and Currency go together", p.ID)
		}
		p.Currency = strings.ToLower(p.Currency)
		if p.Currency != "" && !isCurrency(p.Currency) {
			return nil, fmt.Errorf("billing: pack %q: Currency %q is not a three-letter ISO 4217 code", p.ID, p.Currency)
		}
		seen[p.ID] = true
		out[i] = p
	}
	return out, nil
}

func isCurrency(s string) bool {
	if len(s) != 3 {
		return false
	}
	for i := 0; i < 3; i++ {
		if s[i] < 'a' || s[i] > 'z' {
			return false
		}
	}
	return true
}
