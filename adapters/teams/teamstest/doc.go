// Package teamstest is an in-process fake of Microsoft's servers for the
// Teams adapter: the Bot Framework's OpenID metadata and JWKS (with an
// endorsed and an unendorsed key of its own), the tenant token endpoint,
// and the Bot Connector's conversations and activities endpoints, which
// record calls and answer like the Connector. Helpers mint tokens and
// send activities signed like the Bot Framework.
package teamstest
