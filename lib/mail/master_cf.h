/* placeholder: master_cf is being written */
