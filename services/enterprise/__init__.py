"""The enterprise's side (issue 19): inspection codes per visit, the public scan with "why us" from the draw proof,
anonymous evaluation, enterprise self-service, the county's burden ledger, findings by risk class and open data."""
