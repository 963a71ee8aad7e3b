//! GCP resource kinds for tandem (Compute Engine v1).
