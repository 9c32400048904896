"""The MSP's steward: retention of the appliances' append-only clouds, from the MSP's side."""
