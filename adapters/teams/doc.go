// Package teams connects the bot to Microsoft Teams over the Bot Framework
// in plain HTTP: it serves the messaging endpoint (/api/messages), checks
// every activity's bearer token the way Microsoft requires (OpenID
// metadata and JWKS from configurable URLs, RS256, issuer, audience,
// expiry, the key's msteams endorsement and the serviceurl claim), turns
// messages and Action.Execute invokes into bots.Events, renders bots.Card
// as Adaptive Cards 1.5, and sends and updates messages through the Bot
// Connector REST API with a tenant-specific client-credentials token.
//
// The fake of Microsoft's servers used by the tests is package teamstest.
package teams
