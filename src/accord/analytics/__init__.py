"""Analytics domain: customer-base models and reporting."""
