"""Local simulator of the Qualys Certificate View DigiCert enrollment API, for tests of the qualys.certview collection."""
