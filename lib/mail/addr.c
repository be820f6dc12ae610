/* placeholder: addr is being written */
