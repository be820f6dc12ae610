/* placeholder: tls is being written */
