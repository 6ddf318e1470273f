"""CE-style credits: certificates, verification codes, transcripts, badges and exports."""
